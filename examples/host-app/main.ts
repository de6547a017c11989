/** The example host's Electron entry: the real Electron objects into app.ts. */
import * as electron from 'electron';
import { pageScheme, startHostApp } from './app.js';

electron.protocol.registerSchemesAsPrivileged([pageScheme]);
electron.app
  .whenReady()
  .then(() => startHostApp(electron))
  .catch((error: Error) => {
    electron.dialog.showErrorBox('Host App could not start', error.message);
    electron.app.exit(1);
  });
