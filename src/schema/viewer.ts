import { builder } from "../builder.ts";
import { DeviceRef, viewerDevices } from "./device.ts";
import { orRequestError } from "./errors.ts";

/** Resolved without a homeserver call: each field asks for what it needs. */
interface ViewerValue {
  kind: "viewer";
}

const ViewerRef = builder.objectRef<ViewerValue>("Viewer").implement({
  description: "The user and device the request's access token belongs to.",
  fields: (t) => ({
    userId: t.string({
      description: "The viewer's Matrix user id, e.g. @alice:example.org.",
      resolve: async (_viewer, _args, ctx) => (await orRequestError(ctx.viewer())).userId,
    }),
    deviceId: t.string({
      nullable: true,
      description: "The device of the access token; null for tokens without one (appservices).",
      resolve: async (_viewer, _args, ctx) => (await orRequestError(ctx.viewer())).deviceId,
    }),
    devices: t.field({
      type: [DeviceRef],
      description:
        "The viewer's devices; same as `Query.devices` (the cached ones while the homeserver is " +
        "unreachable), and shares its upstream call.",
      resolve: (_viewer, _args, ctx) => viewerDevices(ctx),
    }),
  }),
});

builder.queryField("viewer", (t) =>
  t.field({
    type: ViewerRef,
    description: "Whose access token this is (GET /account/whoami, remembered briefly).",
    resolve: (_root, _args, ctx) => {
      ctx.session(); // no token: UNAUTHENTICATED here, not on every field
      return { kind: "viewer" } as const;
    },
  }),
);
