/**
 * What the API tests take from the bundled backend (test/api-on-bundle.ts), as one bundle: the
 * error classes the tests expect must be the ones the bundled server throws.
 */
export { startStore } from '../../backend/src/server.js';
export { NewerStoreError, StoreUnavailableError } from '../../backend/src/store/open-errors.js';
