// The private, throwaway PostgreSQL cluster of the tests and of the fleet bench (one implementation, in bench/lib).
export { postgresBinDir, postgresMissing, startPgCluster } from '../../bench/lib/pg-cluster.js';

export interface PgCluster {
  /** Connection URL of the cluster's `postgres` database (user agentguard, trust auth over the unix socket). */
  url: string;
  /** URL of another database in the cluster, created on first call. */
  database(name: string): string;
  /** Stops the server (fast shutdown) without deleting anything: `start()` brings it back with the same data. */
  pause(): void;
  start(): void;
  /** Stops the server and deletes its folder. */
  stop(): void;
}
