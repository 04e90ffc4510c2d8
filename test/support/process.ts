/** Whether a process with this pid exists (a stopped server's pid must be gone). */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
