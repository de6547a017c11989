// The renderer stub: proves the renderer path. It gets the connection from the preload's bridge
// (window.apiStore), reads the store over REST, and follows changes on the /v1/events socket.
// All text goes in through textContent: names come from other users.

const bridge = window.apiStore;
const element = (id) => document.getElementById(id);

let connection = null;
let socket = null;
let selectedSpace = null;

function show(id, text) {
  element(id).textContent = text;
}

function showError(error) {
  const box = element('error');
  box.hidden = !error;
  box.textContent = error ? String(error.message ?? error) : '';
}

/** A call to the store with the launch token in the header (never in a URL the page loads). */
async function api(path, init = {}) {
  const headers = { Authorization: `Bearer ${connection.token}` };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${connection.baseUrl}${path}`, { ...init, headers });
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail ?? `The store answered ${response.status}.`);
  return body;
}

function listItem(text, kind) {
  const item = document.createElement('li');
  item.append(text);
  if (kind) {
    const label = document.createElement('span');
    label.className = 'kind';
    label.textContent = kind;
    item.append(label);
  }
  return item;
}

async function loadSpaces() {
  const { items } = await api(`/files?kind=${encodeURIComponent('Core#Space')}&limit=100`);
  const list = element('spaces');
  list.replaceChildren(
    ...items.map((space) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = space.info.name;
      button.addEventListener('click', () => selectSpace(space).catch(showError));
      const item = listItem(button);
      item.classList.toggle('selected', space.key === selectedSpace?.key);
      return item;
    }),
  );
}

async function loadFiles() {
  const list = element('files');
  if (!selectedSpace) return list.replaceChildren();
  const { items } = await api(`/files?parent=${encodeURIComponent(selectedSpace.key)}&limit=100`);
  show('files-hint', items.length ? `In ${selectedSpace.info.name}:` : `${selectedSpace.info.name} is empty.`);
  list.replaceChildren(...items.map((file) => listItem(file.info.name, file.kind)));
}

async function selectSpace(space) {
  selectedSpace = space;
  await refresh();
}

/** Reloads the lists; calls during a reload are folded into one more reload after it. */
let reloading = null;
let reloadAgain = false;
function refresh() {
  if (reloading) {
    reloadAgain = true;
    return reloading;
  }
  reloading = (async () => {
    do {
      reloadAgain = false;
      await Promise.all([loadSpaces(), loadFiles()]);
    } while (reloadAgain);
  })().finally(() => (reloading = null));
  return reloading;
}

/** Observes every file change; any event reloads the lists, which are the source of truth. */
function followEvents() {
  const current = connection;
  const events = new WebSocket(`${current.wsUrl}?token=${encodeURIComponent(current.token)}`);
  socket = events;
  events.addEventListener('open', () => events.send(JSON.stringify({ kind: 'Core#BackendCommand', cmd: 0, path: '/files' })));
  events.addEventListener('message', (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === 'ack') show('status', 'Live');
    else if (frame.type === 'event') refresh().catch(showError);
    else if (frame.type === 'error') showError(frame.message);
  });
  events.addEventListener('close', () => {
    if (socket !== events) return;
    show('status', 'Events disconnected; reconnecting…');
    setTimeout(() => {
      if (socket === events && connection === current) followEvents();
    }, 2000);
  });
}

function showLan(lan) {
  const line = element('lan');
  line.hidden = !(lan?.enabled || lan?.error);
  line.textContent = lan?.enabled ? `Shared on the LAN at ${lan.url} (fingerprint ${lan.fingerprint})` : lan?.error ? `LAN sharing: ${lan.error}` : '';
}

/** Switches to a (new) connection: after a restart the store has a new port. */
async function connect(next) {
  connection = next;
  const previous = socket;
  socket = null;
  previous?.close();
  showLan(next?.lan);
  if (!next) return show('status', 'The store is not running');
  show('status', 'Connecting…');
  try {
    const info = await api('/store');
    show('mode', info.mode);
    show('version', info.version);
    await refresh();
    showError(null);
    followEvents();
  } catch (error) {
    show('status', 'Cannot reach the store');
    showError(error);
  }
}

element('new-space').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = element('space-name');
  const name = input.value.trim();
  if (!name || !connection) return;
  api('/files', { method: 'POST', body: JSON.stringify({ kind: 'Core#Space', info: { name } }) })
    .then(() => {
      input.value = '';
      return refresh();
    })
    .catch(showError);
});

if (bridge) {
  bridge.onConnectionChanged((next) => void connect(next));
  bridge.getConnection().then(connect, showError);
} else {
  show('status', 'No bridge: open this page in the desktop app');
}
