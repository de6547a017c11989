// CommonJS has no import.meta: in the backend's bundles, import.meta.url is the bundle's own URL.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
