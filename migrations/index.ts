// Every migration, oldest first. TypeORM runs the ones not yet recorded at boot (synchronize is off).
// Append new migrations at the end.
import { InitialSchema1795700000000 } from './1795700000000-InitialSchema.js';
import { AccessControl1795800000000 } from './1795800000000-AccessControl.js';
import { TokenOwners1795900000000 } from './1795900000000-TokenOwners.js';
import { FrontendBinds1796000000000 } from './1796000000000-FrontendBinds.js';
import { EventLog1796200000000 } from './1796200000000-EventLog.js';
import { DrainOperations1796600000000 } from './1796600000000-DrainOperations.js';
import { BackendCmppLimits1796700000000 } from './1796700000000-BackendCmppLimits.js';
import { ServerCheckPort1796800000000 } from './1796800000000-ServerCheckPort.js';
import { RetriesAndSectionTimeouts1796900000000 } from './1796900000000-RetriesAndSectionTimeouts.js';

export const migrations = [
  InitialSchema1795700000000,
  AccessControl1795800000000,
  TokenOwners1795900000000,
  FrontendBinds1796000000000,
  EventLog1796200000000,
  DrainOperations1796600000000,
  BackendCmppLimits1796700000000,
  ServerCheckPort1796800000000,
  RetriesAndSectionTimeouts1796900000000,
];
