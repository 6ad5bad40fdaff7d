// SQLite's planner reads the value of a LIMIT that is a bare bound parameter, so binding one marks
// the statement expired, and the next run compiles it again. better-sqlite3 binds every parameter
// on every run: a prepared statement with `LIMIT @limit` was compiled on each use (measured on the
// webhook claim: 40 µs a run, six times the query itself). As an expression the value is not read
// while planning, and the statement compiles once.

/** The LIMIT clause's value for the bound parameter `param` (as `@limit`). */
export function boundLimit(param: string): string {
  return `CAST(${param} AS INTEGER)`;
}
