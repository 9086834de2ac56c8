/**
 * WebGPU's flag values (GPUBufferUsage, GPUMapMode), fixed by the specification: the package puts
 * them on its `globals` object, and copying those onto globalThis would leak into every module.
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

export const MapMode = { READ: 0x0001 } as const;
