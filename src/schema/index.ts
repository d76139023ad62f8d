import { builder } from "../builder.ts";
import "./errors.ts";
import "./device.ts";
import "./device-cache.ts";
import "./auth.ts";
import "./viewer.ts";
import "./user.ts";
import "./inactive.ts";
import "./inactive-across.ts";
import "./homeserver.ts";
import "./audit.ts";

/** The gateway's GraphQL schema, built once from the domain files above. */
export const schema = builder.toSchema({ sortSchema: true });
