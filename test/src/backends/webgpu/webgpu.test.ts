import { describe, expect, it } from 'vitest';
import { RetinaError } from '../../../../src/core/errors.js';
import { diagnoseVulkan } from '../../../../src/backends/webgpu/vulkan-diagnosis.js';
import { initWebGpu } from '../../../../src/backends/webgpu/webgpu.js';

describe('initWebGpu without a usable GPU (this machine: no Vulkan loader, or lavapipe only)', () => {
  it('throws UNSUPPORTED naming what is missing and the wasm fallback', async () => {
    const err = await initWebGpu().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RetinaError);
    const r = err as RetinaError;
    expect(r.code).toBe('UNSUPPORTED');
    expect(r.exitCode).toBe(8);
    expect(r.message).toMatch(/no GPU adapter/);
    expect(r.message).toMatch(/libvulkan|ICD|libglvnd|lavapipe/);
    expect(r.hint).toMatch(/--backend wasm/);
  });
});

describe('diagnoseVulkan', () => {
  const has = (...files: string[]) => (p: string) => files.includes(p);

  it('names the missing loader, ICD and libglvnd on a bare machine', () => {
    const d = diagnoseVulkan({}, has());
    expect(d.findings.join('\n')).toMatch(/libvulkan\.so\.1.*libvulkan1/);
    expect(d.findings.join('\n')).toMatch(/nvidia_icd\.json/);
    expect(d.findings.join('\n')).toMatch(/libglvnd/);
    expect(d.suggestedDriverFiles).toBeUndefined();
  });

  it('finds a loader through LD_LIBRARY_PATH and suggests VK_DRIVER_FILES for the NVIDIA container path', () => {
    const d = diagnoseVulkan({ LD_LIBRARY_PATH: '/opt/b/lib' },
      has('/opt/b/lib/libvulkan.so.1', '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json', '/usr/lib/x86_64-linux-gnu/libGLX.so.0'));
    expect(d.suggestedDriverFiles).toBe('/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json');
    expect(d.findings).toHaveLength(1);
    expect(d.findings[0]).toMatch(/export VK_DRIVER_FILES=/);
  });

  it('reports a VK_DRIVER_FILES entry that does not exist', () => {
    const d = diagnoseVulkan({ VK_DRIVER_FILES: '/nope/nvidia_icd.json' }, has('/usr/lib64/libvulkan.so.1', '/usr/lib64/libGLX.so.0'));
    expect(d.findings).toEqual([expect.stringMatching(/do not exist: \/nope\/nvidia_icd\.json/)]);
  });

  it('says the software rasteriser is refused when everything is present', () => {
    const d = diagnoseVulkan({}, has('/usr/lib64/libvulkan.so.1', '/etc/vulkan/icd.d/nvidia_icd.json', '/usr/lib64/libGLX.so.0'));
    expect(d.findings).toEqual([expect.stringMatching(/lavapipe/)]);
  });
});
