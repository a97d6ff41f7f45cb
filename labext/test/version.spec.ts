/**
 * @jest-environment node
 */
import { readFileSync } from 'fs';
import { join } from 'path';

import { FRONTEND_VERSION } from '../src/version';

describe('versions', () => {
  it('agree between version.ts, package.json and the Python package', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    const python = readFileSync(
      join(__dirname, '..', '..', 'collab', '_version.py'),
      'utf8'
    );
    const match = /__version__\s*=\s*["']([^"']+)["']/.exec(python);
    expect(match).not.toBeNull();
    expect(pkg.version).toBe(FRONTEND_VERSION);
    expect(match![1]).toBe(FRONTEND_VERSION);
  });
});
