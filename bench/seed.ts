// Puts enrollments and queued commands straight into an Aspen database (the real migrations, the
// real schema) before a server starts on it: creating 100,000 enrollments over HTTP is not what
// the scale figures measure.
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { migrate } from '../src/storage/sqlite/migrate.ts';
import { commandPlist, pushMagic, pushToken, TOPIC } from './workload.ts';

/** A migrated database at `path` holding these enrolled iOS devices and, for each, `commands`
 *  queued in that order (the first is the head of every queue). */
export function seedDatabase(path: string, ids: readonly string[], commands: readonly string[] = []): void {
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    // Seeding is setup, not a measurement; the server reopens with its own setting.
    db.pragma('synchronous = OFF');
    migrate(db);
    db.transaction(() => {
      insertEnrollments(db, ids);
      insertQueue(db, ids, commands);
    })();
  } finally {
    db.close();
  }
}

function insertEnrollments(db: Database, ids: readonly string[]): void {
  const at = new Date().toISOString();
  const insert = db.prepare(`
    INSERT INTO enrollments (id, device_id, channel, type, state, serial_number, platform, os_version, topic,
      push_token, push_magic, first_seen_at, last_seen_at, last_status, authenticated_at, token_updated_at)
    VALUES (@id, @id, 'device', 'device', 'enrolled', @serial, 'iOS', '17.4', @topic,
      @token, @magic, @at, @at, 'TokenUpdate', @at, @at)`);
  for (const id of ids) {
    insert.run({ id, serial: `SN${id.slice(-10)}`, topic: TOPIC, token: pushToken(id), magic: pushMagic(id), at });
  }
}

function insertQueue(db: Database, ids: readonly string[], commands: readonly string[]): void {
  const queue = commandInserter(db);
  const at = new Date().toISOString();
  // Command by command, as admins queue them: every queue's seq order is the commands' order.
  for (const uuid of commands) queue(uuid, ids, at);
}

/** Prepared inserts of the rows Aspen's enqueue writes for one command: the command, then one
 *  queued target per enrollment. Call it inside a transaction. */
export function commandInserter(db: Database): (uuid: string, ids: readonly string[], at: string) => void {
  const command = db.prepare(`INSERT INTO commands (uuid, request_type, payload, created_at) VALUES (?, 'DeviceInformation', ?, ?)`);
  const target = db.prepare(`INSERT INTO command_targets (enrollment_id, command_uuid, state, queued_at, updated_at) VALUES (?, ?, 'queued', ?, ?)`);
  return (uuid, ids, at) => {
    command.run(uuid, Buffer.from(commandPlist(uuid), 'utf8'), at);
    for (const id of ids) target.run(id, uuid, at, at);
  };
}
