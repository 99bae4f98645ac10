/**
 * webdav.users[].uid / gid / groups (docs/configuration.md): parsed, checked together, and turned
 * by `ferry serve` into the file-system credentials of that user's WebDAV requests.
 */
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../src/daemon/config.js';
import { davUsersOf } from '../../../src/cli/commands/serve.js';

const withUsers = (users: string): string => `webdav:\n  htpasswd: /etc/ferry/htpasswd\n  users:\n${users}`;

describe('configuration: per-user uid/gid of WebDAV users', function () {
  it('uid, gid and groups become the credentials of that user; users without them keep the default', function () {
    const c = parseConfig(withUsers('    - name: alice\n      uid: 1000\n      gid: 100\n      groups: [27, 44]\n    - name: bob\n'), 't', {}, {});
    const users = davUsersOf(c)?.users ?? {};
    assert.deepEqual(users['alice']?.credentials, { uid: 1000, gid: 100, gids: [27, 44] });
    assert.equal(users['bob']?.credentials, undefined);
  });

  it('uid without gid, groups without uid, or a negative id is refused naming the key', function () {
    const keysOf = (yaml: string): string[] => {
      try {
        parseConfig(yaml, 't', {}, {});
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.issues.map((i) => i.key).sort();
      }
      return assert.fail('expected a ConfigError');
    };
    assert.deepEqual(keysOf(withUsers('    - name: alice\n      uid: 1000\n')), ['webdav.users.0.gid']);
    assert.deepEqual(keysOf(withUsers('    - name: alice\n      groups: [1]\n')), ['webdav.users.0.groups']);
    assert.deepEqual(keysOf(withUsers('    - name: alice\n      uid: -1\n      gid: 1\n')), ['webdav.users.0.uid']);
  });
});
