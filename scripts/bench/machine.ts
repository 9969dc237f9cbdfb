import os from 'node:os';

/** One line that says where figures were measured; every bench prints it with its results. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu} · ${os.cpus().length} cores · ${Math.round(os.totalmem() / 2 ** 30)} GiB · Node ${process.version} · ${os.platform()} ${os.release()}`;
}
