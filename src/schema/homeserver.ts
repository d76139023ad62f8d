import { builder } from "../builder.ts";
import { orRequestError } from "./errors.ts";

/** Resolved lazily: each field asks for what it needs (versions, auth metadata). */
interface HomeserverValue {
  kind: "homeserver";
}

const HomeserverRef = builder.objectRef<HomeserverValue>("Homeserver").implement({
  description: "What the gateway discovered about the homeserver it fronts.",
  fields: (t) => ({
    versions: t.stringList({
      description: "The client-server spec versions it supports (GET /_matrix/client/versions).",
      resolve: async (_hs, _args, ctx) =>
        (await orRequestError(ctx.homeserver.versions())).versions,
    }),
    authDelegated: t.boolean({
      description:
        "Whether it delegates auth to an OAuth 2.0 server such as MAS (its auth_metadata " +
        "endpoint answers); users then end their own devices in the account service.",
      resolve: async (_hs, _args, ctx) => (await orRequestError(ctx.authMetadata.get())).delegated,
    }),
    accountManagementUrl: t.string({
      nullable: true,
      description: "The account service's management page (`account_management_uri`), if any.",
      resolve: async (_hs, _args, ctx) =>
        (await orRequestError(ctx.authMetadata.get())).accountManagementUri,
    }),
  }),
});

builder.queryField("homeserver", (t) =>
  t.field({
    type: HomeserverRef,
    description:
      "The homeserver's versions and OAuth delegation, discovered once and cached (auth " +
      "metadata as long as its Cache-Control allows). Needs no access token.",
    resolve: () => ({ kind: "homeserver" }) as const,
  }),
);
