// The accounts and audit sub-stores' contract on both backends (PostgreSQL skipped, loudly by
// test/run.ts, when there is none).
import { pgSkipReason } from '../helpers/postgres.ts';
import { accountsContract } from './accounts-contract.ts';
import { openPostgres, openSqlite } from './backends.ts';

accountsContract('SQLite', openSqlite);
accountsContract('PostgreSQL', openPostgres, { skip: pgSkipReason() });
