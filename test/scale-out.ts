import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { openDatabase } from '../db';
import { encryptingDataConverter, newCodecKey, parseCodecKeys } from '../lib/codec';
import { startDevServer } from '../lib/temporal';
import { mdmSignature } from './support/mdm-events';
import { healthy, post, spawnEntry, stop } from './support/processes';
import { codeIn, MailCatcher } from './support/smtp';
import { runsOf } from './support/visibility';

/**
 * `npm run test:scale-out`: PostgreSQL from Debian's package on a free loopback port (data in a temporary folder), one
 * Temporal server, two API and two worker processes from the scale-out entry points. 200 registrations are driven to
 * `done`, every request of a flow going to the other API than the one before, and one worker is killed with SIGKILL
 * halfway: all must complete, each with exactly one account, one device and one verification e-mail. Each device is a
 * Windows PC: the demo organisation's MDM reports its enrolment through the signed webhook. Then two races across the
 * API processes: one link's enrolment reported on both at the same instant, and one address registered on both at once.
 */

const REGISTRATIONS = Number(process.env.SCALE_OUT_REGISTRATIONS ?? 200);
const CONCURRENCY = 10;
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** A throw-away PostgreSQL cluster; initdb refuses root, so it runs as the `postgres` user when we are root. */
async function startPostgres() {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql') : [];
  const bin = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((dir) => existsSync(`${dir}/initdb`));
  if (!bin) throw new Error('PostgreSQL is not installed (Debian package postgresql)');
  const dir = mkdtempSync(path.join(tmpdir(), 'sss-pg-'));
  const asPostgres = (command: string, args: string[]) =>
    process.getuid?.() === 0
      ? execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' })
      : execFileSync(command, args, { stdio: 'pipe' });
  if (process.getuid?.() === 0) {
    chmodSync(dir, 0o700);
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
  }
  const data = path.join(dir, 'data');
  asPostgres(`${bin}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  asPostgres(`${bin}/pg_ctl`, [
    ...['-D', data, '-l', path.join(dir, 'log'), '-w', 'start'],
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
  ]);
  asPostgres(`${bin}/createdb`, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'sss']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/sss`,
    stop: () => {
      asPostgres(`${bin}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const postgres = await startPostgres();
  const mail = new MailCatcher();
  const smtpUrl = await mail.start();
  const codecKey = newCodecKey();
  const dataConverter = encryptingDataConverter(parseCodecKeys(codecKey));
  const temporal = await startDevServer({ namespace: 'default', dataConverter });
  const client = new Client({ connection: temporal.client.connection, namespace: 'default', dataConverter });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sss-scale-'));
  const env = {
    ...process.env,
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'scale-out',
    DATA_DIR: dataDir,
    SMTP_URL: smtpUrl,
    APP_SECRET: randomBytes(32).toString('base64url'),
    TEMPORAL_CODEC_KEY: codecKey,
    SUPERVISOR_TOKEN: randomBytes(24).toString('base64url'),
    REGISTRATIONS_PER_MINUTE: '1000000',
    LOG_LEVEL: 'warn',
  };
  // Both workers at once: they race for the migrations and the demo seed on the empty database.
  const workers = [spawnEntry('worker.ts', env), spawnEntry('worker.ts', env)];
  const ports = [await freePort(), await freePort()];
  const apis = ports.map((port) =>
    spawnEntry('api.ts', { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }),
  );
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  await Promise.all(urls.map(healthy));
  console.log(`PostgreSQL ${postgres.url}, Temporal ${temporal.address}, APIs ${urls.join(' ')}, 2 workers`);

  // The demo organisation's own MDM, set up through the settings API: where Windows PCs enrol (without it Windows is
  // not offered), and the secret it signs its reports with.
  const ORG = 'demo';
  const settings = async (method: string, route: string, body: unknown) => {
    const response = await fetch(`${urls[0]}/api/organisations/${ORG}/${route}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.SUPERVISOR_TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  const setup = await settings('GET', 'device-setup', undefined);
  await settings('PUT', 'device-setup', {
    ...setup,
    windowsMdmDiscoveryUrl: 'https://enterpriseenrollment.demo.example/EnrollmentServer/Discovery.svc',
  });
  const webhookSecret = (await settings('POST', 'mdm-webhook-secret', {})).secret as string;
  /** The MDM reports that the PC of the link enrolled: a signed `enrolled` event. */
  const reportEnrolment = (url: string, link: string) => {
    const body = JSON.stringify({
      id: `evt-${randomUUID()}`,
      type: 'enrolled',
      organisation: ORG,
      enrolmentToken: link,
      device: { serialNumber: `PF-${randomUUID()}`, model: 'Surface Laptop 5' },
    });
    const timestamp = Math.floor(Date.now() / 1000);
    return fetch(`${url}/api/mdm/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature-timestamp': String(timestamp),
        'x-signature': mdmSignature(webhookSecret, timestamp, body),
      },
      body,
    });
  };

  const run = Date.now().toString(36);
  let request = 0;
  /** Every request of a flow goes to the other API process than the request before it. */
  const next = () => urls[request++ % 2] as string;
  const flowUntilDevice = async (email: string) => {
    const created = await post(`${next()}/api/setup/registrations`, { email });
    const id = `/api/setup/registrations/${created.registrationId}`;
    const token = created.token as string;
    const code = codeIn(await mail.nth(email, 1, 120_000));
    await post(`${next()}${id}/verify`, { code }, token);
    await post(`${next()}${id}/profile`, { firstName: 'Scale', lastName: 'Out', password: 'a long passphrase' }, token);
    const chosen = await post(`${next()}${id}/devices`, { platform: 'windows' }, token);
    return {
      workflowId: `registration/${created.organisation}/${email}`,
      link: (chosen.device as { provisioningUrl: string }).provisioningUrl.split('/').pop() as string,
    };
  };

  let completed = 0;
  let killed = false;
  const emails = Array.from({ length: REGISTRATIONS }, (_, i) => `scale.${run}.${i}@example.com`);
  const outcomes: Array<{ email: string; step?: string; error?: string }> = [];
  let cursor = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (cursor < emails.length) {
        const email = emails[cursor++] as string;
        try {
          const { workflowId, link } = await flowUntilDevice(email);
          const reported = await reportEnrolment(next(), link);
          if (!reported.ok) throw new Error(`enrolment report: ${reported.status} ${await reported.text()}`);
          const { step } = (await client.workflow.getHandle(workflowId).result()) as { step: string };
          outcomes.push({ email, step });
        } catch (error) {
          outcomes.push({ email, error: String(error) });
        }
        if (++completed === Math.floor(REGISTRATIONS / 2) && !killed) {
          killed = true;
          workers[0]?.kill('SIGKILL');
          console.log(`killed worker 1 (pid ${workers[0]?.pid}) with SIGKILL after ${completed} registrations`);
        }
      }
    }),
  );
  const done = outcomes.filter((o) => o.step === 'done');
  check(done.length === REGISTRATIONS, `${done.length} of ${REGISTRATIONS} registrations reached done`);
  for (const o of outcomes.filter((x) => x.step !== 'done').slice(0, 5))
    console.log(`     ${o.email}: ${o.error ?? o.step}`);

  const db = await openDatabase(postgres.url);
  const users = await db.models.User.findAll({ where: { email: emails } });
  const byEmail = new Map<string, number>();
  for (const user of users) byEmail.set(user.email, (byEmail.get(user.email) ?? 0) + 1);
  check(
    emails.every((email) => byEmail.get(email) === 1),
    `exactly one account each (${users.length} accounts)`,
  );
  const devices = await db.models.Device.findAll({ where: { userId: users.map((u) => u.id) } });
  const perUser = new Map<number, number>();
  for (const device of devices) perUser.set(device.userId, (perUser.get(device.userId) ?? 0) + 1);
  check(
    users.every((u) => perUser.get(u.id) === 1) && devices.every((d) => d.state === 'enrolled'),
    `exactly one enrolled device each (${devices.length} devices)`,
  );
  const codes = (email: string) =>
    new Set(
      mail
        .to(email)
        .filter((m) => m.subject.startsWith('Your verification code'))
        .map((m) => m.messageId),
    ).size;
  const codeCounts = emails.map(codes);
  check(
    codeCounts.every((n) => n === 1),
    `exactly one verification e-mail each (${codeCounts.reduce((a, b) => a + b, 0)} in all)`,
  );

  // Races across the two API processes.
  const racer = `race.${run}@example.com`;
  const [a, b] = await Promise.all(urls.map((url) => post(`${url}/api/setup/registrations`, { email: racer })));
  const runs = await runsOf(client, `registration/demo/${racer}`);
  check(
    a?.registrationId === b?.registrationId && runs.length === 1,
    `one address registered on both APIs at once: one registration (${runs.length} run(s))`,
  );
  const { link } = await flowUntilDevice(`link.${run}@example.com`);
  const statuses = await Promise.all(urls.map(async (url) => (await reportEnrolment(url, link)).status));
  check(
    statuses.sort().join(',') === '200,410',
    `one link's enrolment reported on both APIs at once: ${statuses.join(' and ')} (one 200, one 410 link_used)`,
  );

  // A returning owner across both API processes, on PostgreSQL: one counter of failed sign-ins, one device limit.
  const owner = emails[0] as string;
  const signIn = (url: string, password: string) =>
    fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: owner, password }),
    });
  const failed = [];
  for (let i = 0; i < 5; i++) failed.push((await signIn(next(), `wrong guess ${i}`)).status);
  const afterFailures = (await signIn(next(), 'a long passphrase')).status;
  check(
    failed.every((status) => status === 401) && afterFailures === 429,
    `5 wrong passwords spread over both APIs, then the right one: ${afterFailures} (429: the count is shared)`,
  );
  const other = emails[1] as string;
  const session = await post(`${next()}/api/session`, { email: other, password: 'a long passphrase' });
  const adds = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      fetch(`${urls[i % 2]}/api/me/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
        body: JSON.stringify({ platform: 'windows' }),
      }).then((response) => response.status),
    ),
  );
  const kept = await db.models.Device.count({ where: { userId: users.find((u) => u.email === other)?.id ?? 0 } });
  check(
    adds.filter((status) => status === 201).length === 4 &&
      adds.filter((status) => status === 409).length === 4 &&
      kept === 5,
    `8 devices added at once on both APIs with 1 of 5 used: ${adds.sort().join(',')}; ${kept} devices kept`,
  );

  await db.close();
  await stop([...apis, ...workers]);
  await temporal.close();
  await mail.stop();
  postgres.stop();
  rmSync(dataDir, { recursive: true, force: true });
  console.log(failures.length ? `scale-out: ${failures.length} check(s) failed` : 'scale-out: all checks passed');
  process.exit(failures.length ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
