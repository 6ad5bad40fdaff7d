// The fleet sub-store's contract on both backends (PostgreSQL skipped, loudly by test/run.ts, when
// there is none).
import { pgSkipReason } from '../helpers/postgres.ts';
import { openPostgres, openSqlite } from './backends.ts';
import { fleetStoreContract } from './fleet-contract.ts';

fleetStoreContract('SQLite', openSqlite);
fleetStoreContract('PostgreSQL', openPostgres, { skip: pgSkipReason() });
