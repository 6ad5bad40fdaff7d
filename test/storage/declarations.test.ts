// The DDM sub-store's contract on both backends (PostgreSQL skipped, loudly by test/run.ts, when
// there is none).
import { pgSkipReason } from '../helpers/postgres.ts';
import { openPostgres, openSqlite } from './backends.ts';
import { declarationStoreContract } from './declarations-contract.ts';

declarationStoreContract('SQLite', openSqlite);
declarationStoreContract('PostgreSQL', openPostgres, { skip: pgSkipReason() });
