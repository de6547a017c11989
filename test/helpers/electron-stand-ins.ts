import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { MenuItemConstructorOptions } from 'electron';

/**
 * Stand-ins for the Electron objects a host passes to `api-store/host`, for tests (the Electron
 * binary is not there). `utilityProcess.fork` starts a real Node child through tsx, so the
 * backend the host resolved really runs; the rest records what the host did with it.
 */

/** Electron's UtilityProcess as the host uses it, over a real child process. */
class StandInUtilityProcess extends EventEmitter {
  constructor(readonly child: ChildProcess) {
    super();
    child.on('message', (message) => this.emit('message', message));
    child.once('exit', (code) => this.emit('exit', code ?? 1));
    child.on('error', () => {});
  }
  get pid() {
    return this.child.pid;
  }
  get stdout() {
    return this.child.stdout;
  }
  get stderr() {
    return this.child.stderr;
  }
  postMessage(message: unknown): void {
    if (this.child.connected) this.child.send(message as object);
  }
  kill(): boolean {
    return this.child.kill('SIGTERM');
  }
}

/** A page (a window's webContents) that records what it was sent. */
export class StandInPage {
  readonly received: { channel: string; value: unknown }[] = [];
  constructor(public url = '') {}
  getURL(): string {
    return this.url;
  }
  send(channel: string, value: unknown): void {
    this.received.push({ channel, value });
  }
}

export class StandInTray {
  menus: MenuItemConstructorOptions[][] = [];
  tooltip = '';
  setContextMenu(menu: unknown): void {
    this.menus.push(menu as MenuItemConstructorOptions[]);
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  /** The last menu set. */
  get menu(): MenuItemConstructorOptions[] {
    return this.menus.at(-1) ?? [];
  }
  click(label: string, checked?: boolean): void {
    const item = this.menu.find((i) => i.label === label);
    if (!item?.click) throw new Error(`no clickable "${label}" in ${this.menu.map((i) => i.label).join(', ')}`);
    (item.click as (item: { checked?: boolean }) => void)({ checked });
  }
}

/**
 * Electron's safeStorage: `available` encrypts (a reversible stand-in, marked so a test can tell
 * it was used); `basic_text` is Linux's fallback without a keyring; `unavailable` has no encryption.
 */
export function standInSafeStorage(mode: 'available' | 'basic_text' | 'unavailable' = 'available') {
  const prefix = 'stand-in-keychain:';
  return {
    isEncryptionAvailable: () => mode !== 'unavailable',
    getSelectedStorageBackend: () => (mode === 'available' ? 'gnome_libsecret' : mode === 'basic_text' ? 'basic_text' : 'unknown') as never,
    encryptString: (text: string) => Buffer.from(prefix + Buffer.from(text).toString('base64')),
    decryptString: (sealed: Buffer) => {
      const text = sealed.toString();
      if (!text.startsWith(prefix)) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return Buffer.from(text.slice(prefix.length), 'base64').toString();
    },
  };
}

/** Everything Electron-shaped a host gets, recording; `userData` is a temp dir of the test's. */
export function standInElectron(userData: string, options: { safeStorage?: ReturnType<typeof standInSafeStorage> } = {}) {
  const children: ChildProcess[] = [];
  const pages: StandInPage[] = [];
  const handlers = new Map<string, (event: unknown) => unknown>();
  const clipboardTexts: string[] = [];
  const trays: StandInTray[] = [];
  const protocols = new Map<string, (request: Request) => Promise<Response> | Response>();
  let quitted!: () => void;
  const quit = new Promise<void>((resolve) => (quitted = resolve));

  /** Electron's app: `quit()` emits `before-quit`, and quits unless a listener prevented it. */
  const app = Object.assign(new EventEmitter(), {
    getPath: (name: string) => {
      if (name !== 'userData') throw new Error(`the stand-in knows only userData, not ${name}`);
      return userData;
    },
    quit: () => {
      let prevented = false;
      app.emit('before-quit', { preventDefault: () => void (prevented = true) });
      if (!prevented) quitted();
    },
  });

  const electron = {
    app,
    utilityProcess: {
      fork: (modulePath: string, args: string[] = [], options: { env?: NodeJS.ProcessEnv } = {}) => {
        const child = fork(modulePath, args, { env: options.env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
        children.push(child);
        return new StandInUtilityProcess(child) as never;
      },
    },
    ipcMain: { handle: (channel: string, handler: (event: unknown) => unknown) => void handlers.set(channel, handler) },
    webContents: { getAllWebContents: () => pages },
    clipboard: { writeText: (text: string) => void clipboardTexts.push(text) },
    shell: { openPath: async () => '' },
    dialog: {
      // "Copy" is button 0.
      showMessageBox: async () => ({ response: 0, checkboxChecked: false }),
      showErrorBox: (title: string, content: string) => {
        throw new Error(`unexpected error box: ${title}: ${content}`);
      },
    } as never,
    BrowserWindow: class {
      readonly webContents = new StandInPage();
      constructor(readonly options: object) {
        pages.push(this.webContents);
      }
      async loadURL(url: string) {
        this.webContents.url = url;
      }
    },
    Tray: class extends StandInTray {
      constructor(_icon: unknown) {
        super();
        trays.push(this);
      }
    },
    Menu: { buildFromTemplate: (template: MenuItemConstructorOptions[]) => template as never },
    nativeImage: { createFromPath: () => ({}) as never },
    safeStorage: options.safeStorage ?? standInSafeStorage(),
    protocol: { handle: (scheme: string, handler: (request: Request) => Promise<Response> | Response) => void protocols.set(scheme, handler) },
  };

  return {
    electron,
    children,
    pages,
    trays,
    protocols,
    clipboardTexts,
    /** Resolves when the app really quit (no `before-quit` listener held it). */
    quit,
    /** `ipcRenderer.invoke(channel)` from a frame showing `url`. */
    invoke: async (channel: string, url: string) => {
      const handler = handlers.get(channel);
      if (!handler) throw new Error(`nothing handles ${channel}`);
      return handler({ senderFrame: { url } });
    },
    reap: () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
