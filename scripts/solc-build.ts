import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const CONTRACT_SOURCES = ['TestToken.sol', 'Forwarder.sol'] as const;

export interface ContractArtifact {
  abi: unknown[];
  bytecode: `0x${string}`;
}

/** Fixed settings: the same sources and settings must always give the same bytes. */
export function compileContracts(): { compiler: string; contracts: Record<string, ContractArtifact> } {
  const solc = createRequire(import.meta.url)('solc') as {
    compile(input: string): string;
    version(): string;
  };
  const sources: Record<string, { content: string }> = {};
  for (const file of CONTRACT_SOURCES) {
    sources[file] = {
      content: readFileSync(fileURLToPath(new URL(`../contracts/${file}`, import.meta.url)), 'utf8'),
    };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      // No metadata hash: the bytecode then depends on the code, not on comments or file paths.
      metadata: { bytecodeHash: 'none', appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: Array<{ severity: string; formattedMessage: string }>;
    contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const contracts: Record<string, ContractArtifact> = {};
  for (const file of CONTRACT_SOURCES) {
    const name = file.replace(/\.sol$/, '');
    const compiled = output.contracts[file]?.[name];
    if (!compiled) throw new Error(`${file} did not produce ${name}`);
    contracts[name] = { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
  }
  return { compiler: solc.version(), contracts };
}
