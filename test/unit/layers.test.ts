import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { PLATFORMS } from '../../domain/platform';

/**
 * The layers, as folders: api/ (JSON) and web/ (pages) are siblings over services/ and never import each other;
 * services/ knows neither front end; platforms/ holds each platform whole, and one platform never imports another;
 * domain/ imports nothing of ours; lib/ is infrastructure; main/ composes them. Workflows (and db/'s settings rules)
 * reach platforms/ only for their pure traits, which the workflow bundle can hold. A file that breaks this fails here,
 * naming the import.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const CODE = ['api', 'web', 'services', 'platforms', 'workflows', 'activities', 'db', 'lib', 'domain', 'main'];
const FORBIDDEN: Record<string, string[]> = {
  api: ['web', 'main'],
  web: ['api', 'main'],
  services: ['api', 'web', 'main'],
  platforms: ['api', 'web', 'main'],
  workflows: ['api', 'web', 'services', 'main', 'db', 'activities', 'lib'],
  activities: ['api', 'web', 'services', 'main', 'workflows'],
  db: ['api', 'web', 'services', 'main', 'workflows', 'activities', 'lib'],
  lib: ['api', 'web', 'services', 'platforms', 'main', 'workflows', 'activities', 'db'],
  domain: CODE.filter((folder) => folder !== 'domain'),
  main: [],
};
/** Folders that may reach platforms/ only for the pure traits (no I/O, nothing the workflow bundle cannot hold). */
const TRAITS_ONLY = new Set(['workflows', 'db']);
const isTraits = (target: string) => target.startsWith(`platforms${path.sep}`) && path.basename(target) === 'traits';

const sources = (folder: string): string[] =>
  readdirSync(path.join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));

/** The files a file's relative imports reach at run time (type-only imports are erased). */
const importsOf = (file: string) =>
  [
    ...readFileSync(file, 'utf8').matchAll(
      /^(?:import|export)(\s+type)?\s[^;]*?from '(\.[^']+)'|\brequire\('(\.[^']+)'\)/gm,
    ),
  ]
    .filter((match) => !match[1])
    .map((match) => {
      const target = path.relative(ROOT, path.resolve(path.dirname(file), match[2] ?? match[3] ?? ''));
      return { target, folder: target.split(path.sep)[0] ?? '' };
    });

const offences = (folder: string, judge: (file: string, target: string, imported: string) => boolean) =>
  sources(folder).flatMap((file) =>
    importsOf(file)
      .filter(({ target, folder: imported }) => judge(path.relative(ROOT, file), target, imported))
      .map(({ target }) => `${path.relative(ROOT, file)} → ${target}`),
  );

describe('layers', () => {
  it('cover every folder of code', () => {
    const folders = readdirSync(ROOT, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules')
      .filter((entry) => sources(entry.name).length > 0)
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !CODE.includes(folder))).to.have.members(['bench', 'test']);
  });

  for (const [folder, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${folder}/ imports ${forbidden.length ? 'none of ' : ''}${forbidden.map((f) => `${f}/`).join(', ') || 'nothing forbidden'}`, () => {
      expect(offences(folder, (_file, _target, imported) => forbidden.includes(imported))).to.deep.equal([]);
    });
  }

  for (const folder of TRAITS_ONLY) {
    it(`${folder}/ reaches platforms/ only for their pure traits`, () => {
      expect(
        offences(folder, (_file, target, imported) => imported === 'platforms' && !isTraits(target)),
      ).to.deep.equal([]);
    });
  }

  it('a platform imports no other platform', () => {
    const platformOf = (file: string) => file.split(path.sep)[1];
    expect(
      offences('platforms', (file, target, imported) => {
        const own = platformOf(file);
        const reached = target.split(path.sep).length > 2 ? platformOf(target) : undefined;
        return imported === 'platforms' && !own?.endsWith('.ts') && reached !== undefined && reached !== own;
      }),
    ).to.deep.equal([]);
  });

  it('nothing outside platforms/ branches on a platform’s name', () => {
    const names = PLATFORMS.join('|');
    const branch = new RegExp(`(?:===|!==)\\s*'(?:${names})'|'(?:${names})'\\s*(?:===|!==)|case '(?:${names})'`);
    const branching = CODE.filter((folder) => folder !== 'platforms')
      .flatMap(sources)
      .filter((file) => !file.includes(`${path.sep}migrations${path.sep}`))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, index) => ({ line, at: `${path.relative(ROOT, file)}:${index + 1}` }))
          .filter(({ line }) => branch.test(line))
          .map(({ at }) => at),
      );
    expect(branching).to.deep.equal([]);
  });

  it('sees imports and branches at all (a check that reads nothing would pass)', () => {
    expect(importsOf(path.join(ROOT, 'main', 'app.ts')).map(({ folder }) => folder)).to.include.members([
      'api',
      'web',
      'services',
    ]);
    expect(`if (platform === 'android')`).to.match(new RegExp(`===\\s*'(?:${PLATFORMS.join('|')})'`));
  });
});
