import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.ts";

/**
 * Adds `extensions.stale: { reason, cachedAt }` to an answer any field of which was served from
 * the last-seen cache because the homeserver could not be reached.
 */
export function staleExtensions(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const context = args.contextValue as Context;
      return {
        onExecuteDone({ result, setResult }) {
          const stale = context.cache?.stale ?? null;
          if (stale === null || Symbol.asyncIterator in result) return;
          setResult({
            ...result,
            extensions: {
              ...result.extensions,
              stale: { reason: stale.reason, cachedAt: stale.cachedAt?.toISOString() ?? null },
            },
          });
        },
      };
    },
  };
}
