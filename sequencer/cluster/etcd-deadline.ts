// Every etcd call of the cluster runs under a deadline: the gRPC deadline given to the
// client and, as a second guard, a timer racing the promise (the client's connection and
// retry machinery may wait on its own). A missed deadline is a typed ClusterUnavailableError.
//
// Never decides what a timed-out write did: callers resolve ambiguity by reading back.

import { ClusterUnavailableError } from "../errors.js";

/** The gRPC call options we set (etcd3 passes them to @grpc/grpc-js). */
export interface CallOptions {
  deadline: Date;
}

/** Run `call` with a gRPC deadline of `deadline_ms` and fail with ClusterUnavailableError past it. */
export async function withDeadline<T>(what: string, deadline_ms: number, call: (options: CallOptions) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClusterUnavailableError(`etcd ${what} did not answer within ${deadline_ms} ms`)), deadline_ms + 50);
  });
  try {
    return await Promise.race([
      call({ deadline: new Date(Date.now() + deadline_ms) }).catch((e: unknown) => {
        if (e instanceof ClusterUnavailableError) throw e;
        throw new ClusterUnavailableError(`etcd ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      }),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
