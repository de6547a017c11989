import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { roles } from '../../backend/src/store/access.js';
import { assertNotIn, plaintext, projectWith } from '../helpers/secrets.js';
import { startTeam, type Team } from '../helpers/team.js';

/**
 * Multi-user: teammates who can read a project see that a secret is set, never its value;
 * `reveal=secrets` answers writers and owners only. Written as each teammate's attempts.
 */

let team: Team;
before(async () => {
  team = await startTeam();
});
after(() => team.stop());

const secret = plaintext('team');

test('reveal=secrets: 404 without a role, 403 for readers and commenters, the values for writers and owners', async () => {
  const { alice, bob, call } = team;
  const created = await call(alice, '/files?alt=media', {
    method: 'POST',
    body: { meta: { kind: 'Core#HttpProject', info: { name: 'shared' } }, media: projectWith([{ name: 'apiKey', value: secret, secret: true }]) },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const key = created.body.key;
  const valueOf = (document: any) => document.definitions.environments[0].variables[0].value;

  // Bob, before any grant: the file does not exist for him.
  assert.equal((await call(bob, `/files/${key}?alt=media&reveal=secrets`)).status, 404);

  for (const role of roles) {
    const granted = await call(alice, `/files/${key}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: role }] });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    const read = await call(bob, `/files/${key}?alt=media`);
    assert.equal(read.status, 200);
    assert.equal(valueOf(read.body).set, true, `${role} sees that the secret is set`);
    assertNotIn(JSON.stringify(read.body), [secret], `a ${role}'s read`);
    assertNotIn(JSON.stringify((await call(bob, `/files/${key}/revisions`)).body), [secret], `a ${role}'s revisions`);
    assertNotIn(JSON.stringify((await call(bob, `/changes?since=0`)).body), [secret], `a ${role}'s change feed`);
    assertNotIn(JSON.stringify((await call(bob, `/files/${key}/export`)).body), [secret], `a ${role}'s export`);

    const revealed = await call(bob, `/files/${key}?alt=media&reveal=secrets`);
    if (role === 'writer' || role === 'owner') {
      assert.equal(revealed.status, 200, `${role}: ${JSON.stringify(revealed.body)}`);
      assert.equal(valueOf(revealed.body), secret);
    } else {
      assert.equal(revealed.status, 403, role);
      assert.equal(revealed.body.code, 'forbidden_role');
      assertNotIn(JSON.stringify(revealed.body), [secret], `the refusal to a ${role}`);
    }
  }
  // The owner herself.
  assert.equal(valueOf((await call(alice, `/files/${key}?alt=media&reveal=secrets`)).body), secret);
});

test('attacker: a teammate copies the marker of a secret he may only read into his own project, to reveal it or send it', async () => {
  const { alice, bob, call } = team;
  const theirs = await call(alice, '/files?alt=media', {
    method: 'POST',
    body: { meta: { kind: 'Core#HttpProject', info: { name: 'alice' } }, media: projectWith([{ name: 'apiKey', value: secret, secret: true }]) },
  });
  await call(alice, `/files/${theirs.body.key}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: 'reader' }] });
  const marker = (await call(bob, `/files/${theirs.body.key}?alt=media`)).body.definitions.environments[0].variables[0].value;

  // 1. Bob writes the marker into a project of his own, where he is the owner, and asks to reveal it.
  const own = await call(bob, '/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'bob' } }, media: projectWith([{ name: 'stolen', value: marker, secret: true }]) } });
  assert.equal(own.status, 201);
  const revealed = await call(bob, `/files/${own.body.key}?alt=media&reveal=secrets`);
  assert.equal(revealed.status, 200);
  assert.deepEqual(revealed.body.definitions.environments[0].variables[0].value, { $secret: marker.$secret, set: false });
  // 2. He clears the secret flag, hoping the store opens the value for him.
  const unflagged = await call(bob, `/files/${own.body.key}?alt=media`, { method: 'PATCH', body: [{ op: 'replace', path: '/definitions/environments/0/variables/0/value', value: marker }, { op: 'replace', path: '/definitions/environments/0/variables/0/secret', value: false }] });
  assert.equal(unflagged.status, 200);
  assertNotIn(JSON.stringify((await call(bob, `/files/${own.body.key}?alt=media`)).body), [secret], 'his project');
  // 3. He sends a request with the marker, naming his own project.
  const sent = await call(bob, '/proxy', { method: 'POST', body: { kind: 'Core#HttpRequest', request: { url: 'http://127.0.0.1:9/x?k={{apiKey}}' }, variables: { apiKey: marker }, from: { project: own.body.key } } });
  assert.equal(sent.status, 200);
  assert.equal(sent.body.error.code, 'unknown_variable');
  assertNotIn(JSON.stringify(sent.body), [secret], 'the proxy answer');
  // Alice's value is untouched.
  assert.equal((await call(alice, `/files/${theirs.body.key}?alt=media&reveal=secrets`)).body.definitions.environments[0].variables[0].value, secret);
});
