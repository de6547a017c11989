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
