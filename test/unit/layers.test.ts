import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

/**
 * The layers, as folders: api/ (JSON) and web/ (pages) are siblings over services/ and never import each other;
 * services/ knows neither front end; main/ composes them. A file that breaks this fails here, naming the import.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const FORBIDDEN: Record<string, string[]> = {
  api: ['web', 'main'],
  web: ['api', 'main'],
  services: ['api', 'web', 'main'],
  workflows: ['api', 'web', 'services', 'main', 'db', 'activities'],
};

const sources = (folder: string): string[] =>
  readdirSync(path.join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));

/** The top-level folders a file's relative imports reach at run time (type-only imports are erased). */
const foldersImportedBy = (file: string) =>
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

describe('layers', () => {
  for (const [folder, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${folder}/ imports none of ${forbidden.map((f) => `${f}/`).join(', ')}`, () => {
      const offending = sources(folder).flatMap((file) =>
        foldersImportedBy(file)
          .filter(({ folder: imported }) => forbidden.includes(imported))
          .map(({ target }) => `${path.relative(ROOT, file)} → ${target}`),
      );
      expect(offending).to.deep.equal([]);
    });
  }

  it('sees imports at all (a check that reads nothing would pass)', () => {
    expect(foldersImportedBy(path.join(ROOT, 'main', 'app.ts')).map(({ folder }) => folder)).to.include.members([
      'api',
      'web',
      'services',
    ]);
  });
});
