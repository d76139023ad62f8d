import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

const BASE = { MATRIX_HOMESERVER_URL: "https://matrix.example.org/" };

function failure(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("applies the documented defaults", () => {
    expect(loadConfig(BASE)).toEqual({
      homeserverUrl: "https://matrix.example.org",
      port: 4000,
      host: "127.0.0.1",
      databaseUrl: "file:./data/gateway.db",
      logLevel: "info",
      upstreamTimeoutMs: 10000,
      whoamiTtlS: 60,
      staleIdentityTtlS: 300,
      bodyLimitBytes: 1048576,
      maxBulkDevices: 100,
      adminConcurrency: 8,
      graphiql: true,
      introspection: true,
      corsOrigins: [],
      retentionDays: 90,
      cache: true,
      upstreamRetries: 2,
      upstreamRetryBudgetMs: 15000,
      rateLimitMaxWaitMs: 500,
      breakerFailureThreshold: 5,
      breakerCooldownMs: 10000,
      upstreamConnections: 32,
      maxAliases: 100,
      maxTokens: 5000,
      maxDepth: 12,
      maxDirectives: 50,
      maxCost: 20000,
      otlpEndpoint: null,
    });
  });

  it("reads the hardening settings and rejects bad ones by name", () => {
    const config = loadConfig({
      ...BASE,
      UPSTREAM_RETRIES: "0",
      UPSTREAM_RETRY_BUDGET_MS: "2500",
      RATE_LIMIT_MAX_WAIT_MS: "0",
      BREAKER_FAILURE_THRESHOLD: "3",
      BREAKER_COOLDOWN_MS: "1000",
      UPSTREAM_CONNECTIONS: "8",
      MAX_ALIASES: "60",
      MAX_TOKENS: "2000",
      MAX_DEPTH: "8",
      MAX_DIRECTIVES: "10",
      MAX_COST: "5000",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
    });
    expect(config).toMatchObject({
      upstreamRetries: 0,
      upstreamRetryBudgetMs: 2500,
      rateLimitMaxWaitMs: 0,
      breakerFailureThreshold: 3,
      breakerCooldownMs: 1000,
      upstreamConnections: 8,
      maxAliases: 60,
      maxTokens: 2000,
      maxDepth: 8,
      maxDirectives: 10,
      maxCost: 5000,
      otlpEndpoint: "http://127.0.0.1:4318/",
    });
    expect(failure({ ...BASE, UPSTREAM_RETRIES: "11" })).toMatch(/^UPSTREAM_RETRIES: expected/);
    expect(failure({ ...BASE, BREAKER_FAILURE_THRESHOLD: "0" })).toMatch(
      /^BREAKER_FAILURE_THRESHOLD: expected an integer from 1/,
    );
    expect(failure({ ...BASE, MAX_ALIASES: "many" })).toMatch(/^MAX_ALIASES: expected/);
    expect(failure({ ...BASE, OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://x" })).toMatch(
      /^OTEL_EXPORTER_OTLP_ENDPOINT: expected an http\(s\) URL/,
    );
  });

  it("names the variable and what it expects, one line each", () => {
    expect(failure({})).toMatch(/^MATRIX_HOMESERVER_URL: required/);
    expect(failure({ MATRIX_HOMESERVER_URL: "ftp://x" })).toMatch(
      /^MATRIX_HOMESERVER_URL: expected an http\(s\) URL/,
    );
    expect(failure({ ...BASE, PORT: "80a" })).toMatch(
      /^PORT: expected an integer from 0 to 65535, got "80a"$/,
    );
    expect(failure({ ...BASE, PORT: "70000" })).toMatch(/^PORT:/);
    expect(failure({ ...BASE, GRAPHIQL: "maybe" })).toMatch(/^GRAPHIQL: expected on\/off/);
    expect(failure({ ...BASE, LOG_LEVEL: "loud" })).toMatch(/^LOG_LEVEL:/);
    expect(failure({ ...BASE, DATABASE_URL: "mysql://x" })).toMatch(
      /^DATABASE_URL: expected file:/,
    );
    expect(failure({ ...BASE, CORS_ORIGINS: "https://ok.example, nope" })).toMatch(
      /^CORS_ORIGINS:/,
    );
    expect(failure({ ...BASE, ADMIN_CONCURRENCY: "0" })).toBe(
      'ADMIN_CONCURRENCY: expected an integer from 1 to 256, got "0"',
    );
    expect(loadConfig({ ...BASE, ADMIN_CONCURRENCY: "3" }).adminConcurrency).toBe(3);
    for (const message of [failure({}), failure({ ...BASE, UPSTREAM_TIMEOUT_MS: "-1" })]) {
      expect(message).not.toContain("\n");
    }
  });

  it("reads lists and switches", () => {
    const config = loadConfig({
      ...BASE,
      CORS_ORIGINS: "https://a.example, https://b.example",
      GRAPHIQL: "off",
      INTROSPECTION: "false",
    });
    expect(config.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(config.graphiql).toBe(false);
    expect(config.introspection).toBe(false);
  });
});
