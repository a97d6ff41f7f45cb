/**
 * The frontend's version. Kept equal to `package.json` and to
 * `collab/_version.py` (checked by `test/version.spec.ts`); the Data Lakes
 * panel compares it with the server extension's `GET collab/version`.
 */
export const FRONTEND_VERSION = '0.1.0';
