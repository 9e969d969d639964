/**
 * Why Dawn found no GPU adapter: a pure look at the environment and a few well-known files, so the
 * error can say what is missing (the Vulkan loader, the GPU driver's ICD, libglvnd) rather than
 * just "no adapter".
 */
import { existsSync } from 'node:fs';

/** Where Vulkan loaders and ICD manifests usually live on Linux (Debian/Ubuntu/RHEL, NVIDIA containers). */
export const LOADER_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
  '/usr/local/lib/libvulkan.so.1',
];
export const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
export const NVIDIA_ICD_FILES = ICD_DIRS.map((d) => `${d}/nvidia_icd.json`);
export const GLVND_PATHS = ['/usr/lib/x86_64-linux-gnu/libGLX.so.0', '/usr/lib64/libGLX.so.0', '/usr/lib/libGLX.so.0'];

export interface VulkanDiagnosis {
  /** One human sentence per finding, most likely culprit first. */
  findings: string[];
  /** A suggested `VK_DRIVER_FILES` value when an NVIDIA ICD manifest was found but not selected. */
  suggestedDriverFiles?: string;
}

/** The Vulkan loader (libvulkan.so.1) in the usual places or on LD_LIBRARY_PATH, if any. */
export function vulkanLoader(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): string | undefined {
  const libDirs = (env['LD_LIBRARY_PATH'] ?? '').split(':').filter((d) => d !== '');
  return [...LOADER_PATHS, ...libDirs.map((d) => `${d}/libvulkan.so.1`)].find((p) => exists(p));
}

/**
 * @param env the process environment (VK_DRIVER_FILES, VK_ICD_FILENAMES, LD_LIBRARY_PATH)
 * @param exists file test, injectable for tests
 */
export function diagnoseVulkan(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): VulkanDiagnosis {
  const findings: string[] = [];
  const loader = vulkanLoader(env, exists);
  if (loader === undefined) {
    findings.push('no Vulkan loader (libvulkan.so.1) was found: install libvulkan1 (Debian/Ubuntu) or vulkan-loader (RHEL), or unpack the bundle\'s .debs');
  }
  const selected = env['VK_DRIVER_FILES'] ?? env['VK_ICD_FILENAMES'];
  const nvidiaIcd = NVIDIA_ICD_FILES.find((p) => exists(p));
  let suggestedDriverFiles: string | undefined;
  if (selected !== undefined && selected !== '') {
    const missing = selected.split(':').filter((p) => p !== '' && !exists(p));
    if (missing.length > 0) findings.push(`VK_DRIVER_FILES/VK_ICD_FILENAMES names ICD manifests that do not exist: ${missing.join(', ')}`);
  } else if (nvidiaIcd === undefined) {
    findings.push(`no NVIDIA Vulkan ICD manifest (nvidia_icd.json) in ${ICD_DIRS.join(', ')}: the GPU driver's Vulkan part is missing (in containers, run with NVIDIA_DRIVER_CAPABILITIES including graphics or all), or point VK_DRIVER_FILES at the driver's nvidia_icd.json`);
  } else if (!nvidiaIcd.startsWith('/usr/share/') && !nvidiaIcd.startsWith('/etc/')) {
    suggestedDriverFiles = nvidiaIcd;
    findings.push(`an NVIDIA ICD manifest exists at ${nvidiaIcd} but the Vulkan loader does not search there: export VK_DRIVER_FILES=${nvidiaIcd}`);
  }
  if (!GLVND_PATHS.some((p) => exists(p))) {
    findings.push('libglvnd (libGLX.so.0) is missing: the NVIDIA ICD (libGLX_nvidia.so.0) needs it; install libglvnd0 libglx0 libegl1 libopengl0 libgl1 libgles2');
  }
  if (findings.length === 0) {
    findings.push('the Vulkan loader, an ICD manifest and libglvnd are present, yet Dawn found no usable adapter (a software rasteriser such as lavapipe is refused; check `vulkaninfo --summary` and the driver version)');
  }
  return suggestedDriverFiles === undefined ? { findings } : { findings, suggestedDriverFiles };
}
