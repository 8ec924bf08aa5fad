import { aggregateCommands } from './aggregate.js';
import { authenticationCommands } from './auth.js';
import { cappedCommands } from './capped.js';
import { catalogCommands } from './catalogCommands.js';
import { collModCommands } from './collMod.js';
import type { CommandSpec } from './command.js';
import { crudCommands } from './crud.js';
import { cursorCommands } from './cursors.js';
import { currentOpCommands } from './currentOp.js';
import { diagnosticCommands } from './diagnostics.js';
import { explainCommands } from './explain.js';
import { failPointCommands } from './failPoints.js';
import { helloCommands } from './hello.js';
import { indexCommands } from './indexes.js';
import { parameterCommands } from './parameters.js';
import { fsyncCommands } from './fsync.js';
import { profileCommands } from './profile.js';
import { replicationCommands } from './replication.js';
import { transactionCommands } from './transactions.js';
import { roleCommands } from './roles.js';
import { sessionCommands } from './sessions.js';
import { shutdownCommands } from './shutdown.js';
import { userCommands } from './users.js';
import { validateCommands } from './validate.js';

/**
 * Every command the server knows: each family defines its own (handler, traits, privileges,
 * explain) in its file; this table only assembles them.
 */
export const COMMAND_TABLE: readonly CommandSpec[] = [
  ...helloCommands,
  ...diagnosticCommands,
  ...currentOpCommands,
  ...parameterCommands,
  ...profileCommands,
  ...shutdownCommands,
  ...fsyncCommands,
  ...replicationCommands,
  ...transactionCommands,
  ...sessionCommands,
  ...crudCommands,
  ...aggregateCommands,
  ...cursorCommands,
  ...explainCommands,
  ...indexCommands,
  ...catalogCommands,
  ...collModCommands,
  ...cappedCommands,
  ...authenticationCommands,
  ...userCommands,
  ...validateCommands,
  ...roleCommands,
  ...failPointCommands,
];

/** Name (and alias) lookup over the table, without the test-only commands unless they are enabled. */
export class CommandRegistry {
  private readonly byName = new Map<string, CommandSpec>();

  constructor(table: readonly CommandSpec[], options: { enableTestCommands: boolean }) {
    for (const spec of table) {
      if (spec.testOnly && !options.enableTestCommands) continue;
      this.byName.set(spec.name, spec);
      for (const alias of spec.aliases) this.byName.set(alias, spec);
    }
  }

  find(name: string): CommandSpec | undefined {
    return this.byName.get(name);
  }

  /** Each registered command once, by its canonical name. */
  specs(): CommandSpec[] {
    return [...new Set(this.byName.values())];
  }
}
