-- CreateTable
CREATE TABLE "device_snapshot" (
    "userId" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "displayName" TEXT,
    "lastSeenIp" TEXT,
    "lastSeenTs" BIGINT,
    "lastSeenUserAgent" TEXT,
    "firstObservedAt" DATETIME NOT NULL,
    "lastObservedAt" DATETIME NOT NULL,
    "deletedAt" DATETIME,

    PRIMARY KEY ("userId", "deviceId")
);

-- CreateTable
CREATE TABLE "device_sighting" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "userId" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "ip" TEXT,
    "seenTs" BIGINT NOT NULL,
    "observedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "actorUserId" TEXT,
    "action" TEXT NOT NULL,
    "targetUserId" TEXT,
    "deviceIds" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "at" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "device_snapshot_userId_deletedAt_idx" ON "device_snapshot"("userId", "deletedAt");

-- CreateIndex
CREATE INDEX "device_snapshot_deletedAt_idx" ON "device_snapshot"("deletedAt");

-- CreateIndex
CREATE INDEX "device_sighting_seenTs_idx" ON "device_sighting"("seenTs");

-- CreateIndex
CREATE UNIQUE INDEX "device_sighting_userId_deviceId_seenTs_key" ON "device_sighting"("userId", "deviceId", "seenTs");

-- CreateIndex
CREATE INDEX "audit_event_at_id_idx" ON "audit_event"("at", "id");

-- CreateIndex
CREATE INDEX "audit_event_actorUserId_at_id_idx" ON "audit_event"("actorUserId", "at", "id");

-- CreateIndex
CREATE INDEX "audit_event_targetUserId_at_id_idx" ON "audit_event"("targetUserId", "at", "id");

