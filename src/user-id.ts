import { GraphQLError } from "graphql";
import { GraphQLErrorCode } from "./error-codes.ts";

/**
 * `@localpart:server_name`, at most 255 characters: a printable-ASCII localpart without `:`
 * (historical ids included), and a server name that is a hostname, IPv4 or `[IPv6]` literal
 * with an optional port.
 * @see https://spec.matrix.org/latest/appendices/#user-identifiers
 * @see https://spec.matrix.org/latest/appendices/#server-name
 */
const USER_ID =
  /^@[\x21-\x39\x3B-\x7E]+:(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::\d{1,5})?$/;

export function isUserId(value: string): boolean {
  return value.length <= 255 && USER_ID.test(value);
}

/** Checks a user id argument before anything is sent upstream; BAD_USER_INPUT otherwise. */
export function checkUserId(value: string, argument = "userId"): string {
  if (!isUserId(value)) {
    throw new GraphQLError(`${argument}: expected a Matrix user id like @alice:example.org`, {
      extensions: { code: GraphQLErrorCode.BadUserInput },
    });
  }
  return value;
}
