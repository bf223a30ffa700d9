import type { ConfigurationOptions, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';

/**
 * client-node's generated APIs run middleware as its own minimal observables, whose only
 * method they call is `toPromise()`; this is that shape for an already-known value.
 */
function settled<T>(value: T): ReturnType<ObservableMiddleware['pre']> {
  return { toPromise: () => Promise.resolve(value) } as unknown as ReturnType<ObservableMiddleware['pre']>;
}

/**
 * Per-call options for client-node's generated APIs that bind the HTTP request to `signal`,
 * so an elector deadline really cancels it.
 */
export function withSignal(signal: AbortSignal | undefined): ConfigurationOptions<ObservableMiddleware> | undefined {
  if (!signal) return undefined;
  return {
    middlewareMergeStrategy: 'append',
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return settled(context);
        },
        post: (response: ResponseContext) => settled(response) as never,
      },
    ],
  };
}
