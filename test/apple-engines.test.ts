import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { findAppleEngineBinaries, type RunningAppleEngines, startAppleEngines } from '../platforms/apple/engines';

const { findAppleEngines } = require('../scripts/apple-engines-path.js') as {
  findAppleEngines(): { scepclient?: string };
};

const API_KEY = 'test-api-key';
const VERIFIER_KEY = 'test-verifier-key';
const GOOD_CHALLENGE = 'good-challenge-4711';

/** The pids of processes whose command line mentions `dir` (Linux /proc), i.e. the engines started there. */
function processesIn(dir: string): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** GET without keep-alive: the status, or the connection error's code. */
function get(url: string, auth?: string): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, auth }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('Apple engines (NanoMDM, scepserver)', () => {
  describe('started', function () {
    this.timeout(60_000);
    const binaries = findAppleEngineBinaries();
    const scepclient = findAppleEngines().scepclient;
    let dir: string;
    let engines: RunningAppleEngines | undefined;
    let verifier: http.Server;
    const verifierRequests: { authorization?: string; contentType?: string; csr: Buffer; answer: number }[] = [];
    const output: string[] = [];
    let spent = false;

    function runScepclient(name: string, challenge: string): Promise<{ ok: boolean; certificate?: X509Certificate }> {
      const work = path.join(dir, 'clients', name); // its own folder: scepclient keeps and reuses csr.pem there
      mkdirSync(work, { recursive: true });
      const certificate = path.join(work, 'cert.pem');
      const args = ['-server-url', engines?.scepUrl ?? '', '-challenge', challenge, '-cn', name];
      args.push('-private-key', path.join(work, 'key.pem'), '-certificate', certificate);
      return new Promise((resolve) => {
        execFile(scepclient as string, args, { cwd: work, timeout: 30_000 }, (error) => {
          resolve({
            ok: !error,
            certificate: existsSync(certificate) ? new X509Certificate(readFileSync(certificate)) : undefined,
          });
        });
      });
    }

    before(async () => {
      // The tests need the real engines: a machine without them fails here rather than passing by skipping.
      if ('off' in binaries || !scepclient) {
        throw new Error('off' in binaries ? binaries.off : 'no scepclient: run npm install with Go');
      }
      dir = mkdtempSync(path.join(os.tmpdir(), 'apple-engines-'));
      // Our API's part, reduced: issue once for the good challenge, refuse everything else.
      verifier = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const csr = Buffer.concat(chunks);
          const authorized = request.headers.authorization === `Bearer ${VERIFIER_KEY}`;
          const issue = authorized && !spent && csr.includes(GOOD_CHALLENGE);
          if (issue) spent = true;
          const answer = issue ? 204 : 403;
          verifierRequests.push({
            authorization: request.headers.authorization,
            contentType: request.headers['content-type'],
            csr,
            answer,
          });
          response.writeHead(answer).end();
        });
      });
      await new Promise<void>((resolve) => verifier.listen(0, '127.0.0.1', resolve));
      const verifierPort = (verifier.address() as AddressInfo).port;
      engines = await startAppleEngines({
        binaries: (binaries as { binaries: { nanomdm: string; scepserver: string } }).binaries,
        dir,
        apiKey: API_KEY,
        webhookUrl: `http://127.0.0.1:${verifierPort}/webhook`,
        webhookKey: 'test-webhook-key',
        verifier: { url: `http://127.0.0.1:${verifierPort}/scep-verify`, key: VERIFIER_KEY },
        log: (line) => output.push(line),
      });
    });

    after(async () => {
      await engines?.stop();
      verifier?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('listens on loopback, and keeps its CA and NanoMDM storage under dir', async () => {
      expect(engines?.nanomdmUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(engines?.scepUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/scep$/);
      expect(readdirSync(path.join(dir, 'scep-depot'))).to.include.members(['ca.pem', 'ca.key']);
      expect(existsSync(path.join(dir, 'nanomdm'))).to.equal(true);
      // Not reachable on any other address of this machine.
      const other = Object.values(os.networkInterfaces())
        .flat()
        .find((address) => address && !address.internal && address.family === 'IPv4');
      for (const url of [engines?.nanomdmUrl, engines?.scepUrl]) {
        if (!other || !url) continue;
        const port = Number(new URL(url).port);
        const connected = await new Promise((resolve) => {
          const socket = net.connect(port, other.address, () => resolve(true)).on('error', () => resolve(false));
          socket.setTimeout(2000, () => resolve(false));
          socket.unref();
        });
        expect(connected, `${other.address}:${port}`).to.equal(false);
      }
    });

    it('issues a certificate signed by the depot CA when the verifier answers 204', async () => {
      const { ok, certificate } = await runScepclient('device-1', GOOD_CHALLENGE);
      expect(ok, output.slice(-10).join('\n')).to.equal(true);
      expect(certificate, 'certificate file').to.not.equal(undefined);
      const ca = new X509Certificate(readFileSync(path.join(dir, 'scep-depot', 'ca.pem')));
      expect(certificate?.checkIssued(ca)).to.equal(true);
      expect(certificate?.verify(ca.publicKey)).to.equal(true);
      expect(certificate?.subject).to.include('CN=device-1');
      expect(ca.subject).to.include('CN=Self-Service Setup SCEP CA');

      const [request] = verifierRequests;
      expect(request).to.include({ authorization: `Bearer ${VERIFIER_KEY}`, contentType: 'application/pkcs10' });
      expect(request.csr[0], 'DER SEQUENCE').to.equal(0x30);
      expect(request.csr.includes('device-1')).to.equal(true);
    });

    it('issues nothing when the verifier refuses (challenge spent, or wrong)', async () => {
      const spentAgain = await runScepclient('device-2', GOOD_CHALLENGE);
      expect(spentAgain.ok).to.equal(false);
      expect(spentAgain.certificate).to.equal(undefined);
      const wrong = await runScepclient('device-3', 'wrong-challenge');
      expect(wrong.ok).to.equal(false);
      expect(wrong.certificate).to.equal(undefined);
      expect(verifierRequests.map((request) => request.answer)).to.deep.equal([204, 403, 403]);
    });

    it('NanoMDM answers, with our API key, and can be stopped and started again alone', async () => {
      const nanomdmUrl = engines?.nanomdmUrl as string;
      expect(await get(`${nanomdmUrl}/version`)).to.equal(200);
      // No push certificate is stored yet: 404 (and 401 for a wrong key) shows the API key reached NanoMDM.
      expect(await get(`${nanomdmUrl}/v1/pushcert`, 'nanomdm:wrong')).to.equal(401);
      expect(await get(`${nanomdmUrl}/v1/pushcert`, `nanomdm:${API_KEY}`)).to.not.equal(401);
      expect(output.join('\n')).to.not.include(API_KEY);

      await engines?.nanomdm.stop();
      expect(await get(`${nanomdmUrl}/version`)).to.equal('ECONNREFUSED');
      expect(await get(`${engines?.scepUrl}?operation=GetCACaps`)).to.equal(200);
      await engines?.nanomdm.start();
      expect(await get(`${nanomdmUrl}/version`)).to.equal(200);
    });

    it('keeps the CA when started again on the same dir, and stop() leaves no process', async () => {
      const caBefore = readFileSync(path.join(dir, 'scep-depot', 'ca.pem'), 'utf8');
      expect(processesIn(dir)).to.have.lengthOf(2);
      await engines?.stop();
      expect(processesIn(dir)).to.deep.equal([]);
      expect(await get(`${engines?.nanomdmUrl}/version`)).to.equal('ECONNREFUSED');
      expect(await get(`${engines?.scepUrl}?operation=GetCACaps`)).to.equal('ECONNREFUSED');

      const { nanomdmUrl, scepUrl } = engines as RunningAppleEngines;
      engines = await startAppleEngines({
        binaries: (binaries as { binaries: { nanomdm: string; scepserver: string } }).binaries,
        dir,
        apiKey: API_KEY,
        webhookUrl: 'http://127.0.0.1:9/webhook',
        webhookKey: 'test-webhook-key',
        verifier: { url: 'http://127.0.0.1:9/scep-verify', key: VERIFIER_KEY },
        nanomdmPort: Number(new URL(nanomdmUrl).port),
        scepPort: Number(new URL(scepUrl).port),
      });
      expect(readFileSync(path.join(dir, 'scep-depot', 'ca.pem'), 'utf8')).to.equal(caBefore);
      expect(engines.nanomdmUrl).to.equal(nanomdmUrl);
      await engines.stop();
      expect(processesIn(dir)).to.deep.equal([]);
    });

    it('fails with the output when an engine exits early, and leaves nothing running', async () => {
      const failing = path.join(dir, 'failing');
      const { scepserver } = (binaries as { binaries: { nanomdm: string; scepserver: string } }).binaries;
      // scepclient does not know NanoMDM's flags, so it exits at once, printing its usage.
      const started = startAppleEngines({
        binaries: { nanomdm: scepclient as string, scepserver },
        dir: failing,
        apiKey: API_KEY,
        webhookUrl: 'http://127.0.0.1:9/webhook',
        webhookKey: 'test-webhook-key',
        verifier: { url: 'http://127.0.0.1:9/scep-verify', key: VERIFIER_KEY },
      });
      const error = await started.then(
        () => undefined,
        (failure: Error) => failure,
      );
      expect(error?.message).to.match(/nanomdm exited with code 2 before answering/);
      expect(error?.message).to.match(/Last output:\n[\s\S]*-server-url string/);
      expect(processesIn(failing)).to.deep.equal([]);
    });
  });
});
