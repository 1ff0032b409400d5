import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * A tiny shell that signals `pid` once our end of its stdin closes, which the kernel does however this process
 * dies (a jest worker killed mid-test, kill -9): a server we started never outlives us as an orphan holding its
 * port and its data dir. Returns the disarm for a normal stop, which then stops the server itself.
 */
export function reapOnExit(pid: number, signal: 'TERM' | 'INT'): () => void {
  const reaper = spawn('sh', ['-c', `read _; kill -${signal} ${pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
  reaper.on('error', () => undefined); // without sh there is no guard, and nothing else to do about it
  // Neither the shell nor its pipe may keep this process alive.
  reaper.unref();
  (reaper.stdin as Socket).unref();
  return () => {
    reaper.kill('SIGKILL');
  };
}
