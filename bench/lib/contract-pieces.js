/** Pieces of the sidecar's HTTP contract that bench/lib/contract-floor-server.js can leave out, one at a time, to price each. */
export const PIECES = ['logger', 'host-check', 'in-flight', 'access-log', 'sdk-version', 'auth', 'json-parser', 'body-schema', 'response-schema', 'error-handler', 'reply-headers'];
