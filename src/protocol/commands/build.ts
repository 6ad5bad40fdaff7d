// Builds the plist a device receives for one command: `{ CommandUUID, Command }`.
import type { PlistDict } from '../plist.ts';
import { commandRegistry } from './registry.ts';
import type { CommandRegistry } from './registry.ts';
import type { DictionarySpec } from './spec.ts';
import { commandUuidIssues, CommandValidationError, validateCommandDict } from './validate.ts';
import { writePlistXml } from './xml-writer.ts';

export interface CommandToSend {
  /** Server-chosen id the device echoes back; any non-empty string (docs/protocol.md §4.3). */
  commandUuid: string;
  /** The `Command` dictionary, as returned by validateCommandJson / validateCommandPlist. */
  command: PlistDict;
}

/**
 * Returns the XML plist for a command. The command is re-validated first, so nothing malformed
 * can reach a device even if a caller skipped validation; failure throws CommandValidationError.
 */
export function buildCommandPlist({ commandUuid, command }: CommandToSend, registry: CommandRegistry = commandRegistry): string {
  const errors = commandUuidIssues(commandUuid);
  const validation = validateCommandDict(command, registry);
  if (!validation.ok) errors.push(...validation.errors);
  if (errors.length > 0 || !validation.ok) throw new CommandValidationError(errors);

  const definition = registry.get(validation.requestType)!;
  const envelope: DictionarySpec = {
    kind: 'dictionary',
    keys: new Map([
      ['CommandUUID', { name: 'CommandUUID', required: true, value: { kind: 'string' } }],
      ['Command', { name: 'Command', required: true, value: definition.command }],
    ]),
  };
  return writePlistXml({ CommandUUID: commandUuid, Command: validation.command }, envelope);
}
