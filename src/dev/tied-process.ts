import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Starts a dev node (anvil, btcd) under a small shell that kills it when this process is gone, even
 * by SIGKILL (a crashed `npm start` or test worker must not leave a node holding its port), and
 * forwards SIGTERM/SIGINT to it. stdout and stderr are piped. Windows has no /bin/sh: the node is
 * started directly there.
 */
export function spawnTiedToThisProcess(binary: string, args: string[]): ChildProcess {
  if (process.platform === 'win32') return spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const watchdog = [
    '"$0" "$@" & node=$!',
    "trap 'kill $node 2>/dev/null' TERM INT",
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $node 2>/dev/null; do sleep 1; done`,
    'kill $node 2>/dev/null',
    'wait $node',
  ].join('; ');
  return spawn('/bin/sh', ['-c', watchdog, binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
