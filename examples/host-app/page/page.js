// The host's page reaches the store through window.apiStore only.
const store = document.getElementById('store');
const lan = document.getElementById('lan');

async function show(connection) {
  if (!connection) {
    store.textContent = 'not running';
    lan.textContent = 'off';
    return;
  }
  const response = await fetch(`${connection.baseUrl}/store`, { headers: { Authorization: `Bearer ${connection.token}` } });
  const info = await response.json();
  store.textContent = `${info.mode ?? 'running'} at ${connection.baseUrl}`;
  lan.textContent = connection.lan.enabled ? `${connection.lan.url} (${connection.lan.fingerprint})` : 'off';
}

window.apiStore.onConnectionChanged((connection) => void show(connection));
void window.apiStore.getConnection().then(show);
