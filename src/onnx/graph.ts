/**
 * A tfjs layers model (NHWC, as retina builds and trains it) as an ONNX graph (NCHW inside), built
 * with ONNX's own message types (`onnx-proto`, protobufjs). The graph takes the same input as the
 * tfjs model ([N,H,W,C] float32 in [-1,1], so datasets stay as they are) and transposes it once;
 * every convolution then runs in ONNX Runtime's native NCHW layout. A BatchNormalization right
 * after a Conv2D (its only consumer) is folded into the convolution's weights; any other becomes a
 * per-channel Mul + Add. A layer the builder does not know is an UNSUPPORTED error naming it.
 */
import type * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { RetinaError } from '../core/errors.js';

const { onnx } = onnxProto;

/** The ONNX operator set the graph uses (every op here is unchanged since 13; ORT 1.30 runs up to 23). */
export const ONNX_OPSET = 13;
/** Bumped whenever the builder's output changes, so cached graphs are rebuilt. */
export const GRAPH_BUILDER_VERSION = 1;

export interface GraphOptions {
  /** Name of the graph's input ([N,H,W,C] float32); default `image`. */
  inputName?: string;
  /** Name of the graph's output; default `output`. */
  outputName?: string;
  /** Key/value metadata stored in the model (ONNX `metadata_props`). */
  metadata?: Record<string, string>;
  /** The model's doc string. */
  docString?: string;
}

type Sym = tf.SymbolicTensor;
type Layer = tf.layers.Layer;

interface Built {
  name: string;
  /** Rank in NCHW order (4 for feature maps, 2 for vectors). */
  rank: number;
}

const FLOAT = 1;

function unsupported(layer: Layer, what: string): RetinaError {
  return new RetinaError('UNSUPPORTED', `Layer "${layer.name}" (${layer.getClassName()}) cannot be built into an ONNX graph: ${what}`, {
    hint: 'Use --backend auto (falls back to tfjs for this model) or --backend wasm; supported: Conv2D, Dense, BatchNormalization, Activation/ReLU, Max/AveragePooling2D, Global{Average,Max}Pooling2D, Concatenate, Add, Multiply, Flatten, Dropout.',
  });
}

/** Weights of a layer by role (`kernel`, `bias`, `gamma`, `moving_mean`, …), as float32 arrays. */
function weightsOf(layer: Layer): Map<string, { values: Float32Array; shape: number[] }> {
  const values = layer.getWeights();
  const out = new Map<string, { values: Float32Array; shape: number[] }>();
  layer.weights.forEach((w, i) => {
    const role = w.originalName.split('/').pop() ?? w.originalName;
    const t = values[i]!;
    out.set(role, { values: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape.slice() });
  });
  return out;
}

function pair(v: unknown, layer: Layer, what: string): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || !a.every((x) => Number.isInteger(x))) throw unsupported(layer, `${what} ${JSON.stringify(v)}`);
  return a as [number, number];
}

/** ONNX pads [top, left, bottom, right] for TF padding over a known input size. */
function padsFor(padding: unknown, layer: Layer, inHW: [number, number], kernel: [number, number], strides: [number, number], dilation: [number, number] = [1, 1]): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw unsupported(layer, `padding "${String(padding)}"`);
  const begin: number[] = [], end: number[] = [];
  for (let d = 0; d < 2; d++) {
    const out = Math.ceil(inHW[d]! / strides[d]!);
    const eff = (kernel[d]! - 1) * dilation[d]! + 1;
    // TF puts the odd pixel of padding at the end (ONNX's SAME_UPPER).
    const total = Math.max((out - 1) * strides[d]! + eff - inHW[d]!, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;

  fresh(base: string): string {
    return `${base}__${++this.counter}`;
  }

  constant(name: string, values: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.initializers.push(onnx.TensorProto.create({ name, dataType: FLOAT, dims, rawData: bytes.slice() }));
    return name;
  }

  node(opType: string, inputs: string[], output: string, attrs: Record<string, number | number[] | string> = {}): string {
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) });
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
      return Number.isInteger(v)
        ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v })
        : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
    });
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], name: output, attribute }));
    return output;
  }

  /** Apply a Keras activation by name to `x`; returns the output name. */
  activation(layer: Layer, kind: unknown, x: string, out: string, rank: number): string {
    switch (kind) {
      case undefined: case null: case 'linear': return x === out ? x : this.node('Identity', [x], out);
      case 'relu': return this.node('Relu', [x], out);
      case 'sigmoid': return this.node('Sigmoid', [x], out);
      case 'tanh': return this.node('Tanh', [x], out);
      case 'elu': return this.node('Elu', [x], out, { alpha: 1.0 });
      case 'softplus': return this.node('Softplus', [x], out);
      case 'softmax':
        if (rank !== 2) throw unsupported(layer, `softmax over a rank-${rank} tensor`);
        return this.node('Softmax', [x], out, { axis: 1 });
      default: throw unsupported(layer, `activation "${String(kind)}"`);
    }
  }
}

/** The conv's kernel [kh,kw,cin,cout] as ONNX's [cout,cin,kh,kw], each output channel scaled by `scale`. */
function convWeight(kernel: Float32Array, [kh, kw, cin, cout]: number[], scale?: Float32Array): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh!; y++) for (let x = 0; x < kw!; x++) for (let i = 0; i < cin!; i++) {
    const src = ((y * kw! + x) * cin! + i) * cout!;
    for (let o = 0; o < cout!; o++) out[((o * cin! + i) * kh! + y) * kw! + x] = kernel[src + o]! * (scale ? scale[o]! : 1);
  }
  return out;
}

/** A BN layer's inference form: y = x·scale + shift per channel. */
function bnAffine(layer: Layer): { scale: Float32Array; shift: Float32Array } {
  const cfg = layer.getConfig();
  const axis = cfg.axis as number | number[] | undefined;
  if (!(axis === undefined || axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))) {
    throw unsupported(layer, `batch norm over axis ${JSON.stringify(axis)} (only the channel axis)`);
  }
  const w = weightsOf(layer);
  const mean = w.get('moving_mean')?.values, variance = w.get('moving_variance')?.values;
  if (!mean || !variance) throw unsupported(layer, 'no moving statistics');
  const eps = (cfg.epsilon as number | undefined) ?? 1e-3;
  const gamma = w.get('gamma')?.values, beta = w.get('beta')?.values;
  const scale = new Float32Array(mean.length), shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    // Math.fround at each step: the same float32 arithmetic foldBatchNorm does in tfjs.
    const f = Math.fround((gamma ? gamma[c]! : 1) * Math.fround(1 / Math.sqrt(Math.fround(variance[c]! + eps))));
    scale[c] = f;
    shift[c] = Math.fround((beta ? beta[c]! : 0) - Math.fround(mean[c]! * f));
  }
  return { scale, shift };
}

function channelAxis(layer: Layer, axis: unknown, rank: number): number {
  const a = typeof axis === 'number' ? axis : -1;
  if (rank === 4) {
    const nhwc = a < 0 ? a + 4 : a;
    // NHWC axis → NCHW axis.
    return [0, 2, 3, 1][nhwc] ?? (() => { throw unsupported(layer, `axis ${a}`); })();
  }
  return a < 0 ? a + rank : a;
}

/**
 * Build the ONNX model of `model` (one input [N,H,W,C], one output). Returns the encoded bytes.
 * @throws RetinaError UNSUPPORTED naming the first layer the builder cannot express.
 */
export function buildOnnxModel(model: tf.LayersModel, opts: GraphOptions = {}): Uint8Array {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new RetinaError('UNSUPPORTED', `An ONNX graph needs a model with one input and one output; ${model.name} has ${model.inputs.length} and ${model.outputs.length}`);
  }
  const inputName = opts.inputName ?? 'image', outputName = opts.outputName ?? 'output';
  const g = new GraphBuilder();
  const input = model.inputs[0]!;
  const inShape = input.shape;
  if (inShape.length !== 4 || inShape.slice(1).some((d) => typeof d !== 'number')) {
    throw new RetinaError('UNSUPPORTED', `An ONNX graph needs a fixed [batch, H, W, C] input; ${model.name} takes ${JSON.stringify(inShape)}`);
  }
  const [, h, w, c] = inShape as [null, number, number, number];

  const built = new Map<number, Built>();
  const inputsOf = (t: Sym): Sym[] => t.sourceLayer.inboundNodes[t.nodeIndex]!.inputTensors;

  const visit = (t: Sym): Built => {
    const done = built.get(t.id);
    if (done) return done;
    const layer = t.sourceLayer;
    const cls = layer.getClassName();
    const cfg = layer.getConfig();
    const out = `${layer.name}:${t.id}`;
    let result: Built;
    if (t.id === input.id || cls === 'InputLayer') {
      result = { name: g.node('Transpose', [inputName], 'input_nchw', { perm: [0, 3, 1, 2] }), rank: 4 };
      built.set(t.id, result);
      return result;
    }
    const ins = inputsOf(t);
    const one = (): Built => {
      if (ins.length !== 1) throw unsupported(layer, `${ins.length} inputs`);
      return visit(ins[0]!);
    };
    const inHW = (): [number, number] => {
      const s = ins[0]!.shape;
      return [s[1] as number, s[2] as number];
    };
    if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') throw unsupported(layer, `data format ${String(cfg.dataFormat)}`);
    switch (cls) {
      case 'Conv2D': {
        const x = one();
        const wts = weightsOf(layer);
        const kernel = wts.get('kernel');
        if (!kernel) throw unsupported(layer, 'no kernel');
        const [kh, kw, , cout] = kernel.shape as [number, number, number, number];
        const strides = pair(cfg.strides, layer, 'strides'), dilation = pair(cfg.dilationRate ?? 1, layer, 'dilation');
        if ((cfg.groups as number | undefined ?? 1) !== 1) throw unsupported(layer, 'grouped convolution');
        let scale: Float32Array | undefined;
        let bias = wts.get('bias')?.values ?? new Float32Array(cout);
        let activation: unknown = cfg.activation;
        let outTensor = t;
        // Fold a following BatchNormalization (and the activation after it) into this conv.
        const bn = foldableBn(t);
        if (bn && (activation === 'linear' || activation === undefined)) {
          const { scale: s, shift } = bnAffine(bn.sourceLayer);
          scale = s;
          bias = Float32Array.from(bias, (b, o) => Math.fround(Math.fround(b * s[o]!) + shift[o]!));
          outTensor = bn;
          activation = 'linear';
        }
        const wName = g.constant(`${layer.name}.weight`, convWeight(kernel.values, kernel.shape, scale), [cout, kernel.shape[2]!, kh, kw]);
        const bName = g.constant(`${layer.name}.bias`, bias, [cout]);
        const outName = `${outTensor.sourceLayer.name}:${outTensor.id}`;
        const conv = g.node('Conv', [x.name, wName, bName], activation === 'linear' || activation === undefined ? outName : g.fresh(layer.name), {
          kernel_shape: [kh, kw], strides, dilations: dilation, pads: padsFor(cfg.padding, layer, inHW(), [kh, kw], strides, dilation), group: 1,
        });
        const y = g.activation(layer, activation, conv, outName, 4);
        result = { name: y, rank: 4 };
        built.set(outTensor.id, result);
        return result;
      }
      case 'BatchNormalization': {
        const x = one();
        // Visiting its input convolution may have folded this BN into it.
        const folded = built.get(t.id);
        if (folded) return folded;
        const { scale, shift } = bnAffine(layer);
        const dims = x.rank === 4 ? [scale.length, 1, 1] : [scale.length];
        const m = g.node('Mul', [x.name, g.constant(`${layer.name}.scale`, scale, dims)], g.fresh(layer.name));
        result = { name: g.node('Add', [m, g.constant(`${layer.name}.shift`, shift, dims)], out), rank: x.rank };
        break;
      }
      case 'Activation': {
        const x = one();
        result = { name: g.activation(layer, cfg.activation, x.name, out, x.rank), rank: x.rank };
        break;
      }
      case 'ReLU': {
        const x = one();
        if (cfg.maxValue !== undefined && cfg.maxValue !== null) throw unsupported(layer, 'ReLU with maxValue');
        result = { name: g.node('Relu', [x.name], out), rank: x.rank };
        break;
      }
      case 'Dropout': case 'SpatialDropout2D': case 'GaussianNoise': case 'GaussianDropout': case 'AlphaDropout': {
        const x = one();
        result = { name: g.node('Identity', [x.name], out), rank: x.rank };
        break;
      }
      case 'MaxPooling2D': case 'AveragePooling2D': {
        const x = one();
        const pool = pair(cfg.poolSize, layer, 'pool size');
        const strides = pair(cfg.strides ?? cfg.poolSize, layer, 'strides');
        // count_include_pad 0: TF's 'same' average pooling divides by the pixels inside the image.
        const attrs: Record<string, number[] | number> = { kernel_shape: pool, strides, pads: padsFor(cfg.padding, layer, inHW(), pool, strides) };
        if (cls === 'AveragePooling2D') attrs.count_include_pad = 0;
        result = { name: g.node(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], out, attrs), rank: 4 };
        break;
      }
      case 'GlobalAveragePooling2D': case 'GlobalMaxPooling2D': {
        const x = one();
        if (cfg.keepDims === true) throw unsupported(layer, 'keepDims');
        const p = g.node(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], g.fresh(layer.name));
        result = { name: g.node('Flatten', [p], out, { axis: 1 }), rank: 2 };
        break;
      }
      case 'Flatten': {
        const x = one();
        // Keras flattens NHWC in H, W, C order: transpose back before flattening a feature map.
        const src = x.rank === 4 ? g.node('Transpose', [x.name], g.fresh(layer.name), { perm: [0, 2, 3, 1] }) : x.name;
        result = { name: g.node('Flatten', [src], out, { axis: 1 }), rank: 2 };
        break;
      }
      case 'Concatenate': {
        const xs = ins.map(visit);
        const rank = xs[0]!.rank;
        result = { name: g.node('Concat', xs.map((x) => x.name), out, { axis: channelAxis(layer, cfg.axis, rank) }), rank };
        break;
      }
      case 'Add': case 'Multiply': {
        const xs = ins.map(visit);
        let acc = xs[0]!.name;
        for (let i = 1; i < xs.length; i++) acc = g.node(cls === 'Add' ? 'Add' : 'Mul', [acc, xs[i]!.name], i === xs.length - 1 ? out : g.fresh(layer.name));
        result = { name: acc, rank: xs[0]!.rank };
        break;
      }
      case 'Dense': {
        const x = one();
        if (x.rank !== 2) throw unsupported(layer, `Dense over a rank-${x.rank} input (flatten it first)`);
        const wts = weightsOf(layer);
        const kernel = wts.get('kernel');
        if (!kernel) throw unsupported(layer, 'no kernel');
        const [, units] = kernel.shape as [number, number];
        const bias = wts.get('bias')?.values ?? new Float32Array(units);
        const k = g.constant(`${layer.name}.weight`, kernel.values, kernel.shape);
        const b = g.constant(`${layer.name}.bias`, bias, [units]);
        const act = cfg.activation;
        const gemm = g.node('Gemm', [x.name, k, b], act === 'linear' || act === undefined ? out : g.fresh(layer.name));
        result = { name: g.activation(layer, act, gemm, out, 2), rank: 2 };
        break;
      }
      default:
        throw unsupported(layer, 'no ONNX form for this layer type');
    }
    built.set(t.id, result);
    return result;
  };

  // Who consumes each symbolic tensor: a conv's BN is folded only when it is the sole consumer.
  const consumers = new Map<number, Sym[]>();
  const seen = new Set<number>();
  const collect = (t: Sym) => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    for (const i of inputsOf(t)) {
      consumers.set(i.id, [...(consumers.get(i.id) ?? []), t]);
      collect(i);
    }
  };
  collect(model.outputs[0]!);
  const foldableBn = (conv: Sym): Sym | undefined => {
    const users = consumers.get(conv.id) ?? [];
    if (conv.id === model.outputs[0]!.id || users.length !== 1) return undefined;
    const next = users[0];
    return next && next.sourceLayer.getClassName() === 'BatchNormalization' ? next : undefined;
  };

  const last = visit(model.outputs[0]!);
  const outShape = model.outputs[0]!.shape;
  if (last.rank !== 2) throw new RetinaError('UNSUPPORTED', `The model's output has shape ${JSON.stringify(outShape)}; the ONNX builder exports [batch, features] outputs`);
  g.node('Identity', [last.name], outputName);

  const dim = (v: number | null) => (v === null ? onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' }) : onnx.TensorShapeProto.Dimension.create({ dimValue: v }));
  const valueInfo = (name: string, shape: (number | null)[]) => onnx.ValueInfoProto.create({
    name, type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: FLOAT, shape: onnx.TensorShapeProto.create({ dim: shape.map(dim) }) }) }),
  });
  const graph = onnx.GraphProto.create({
    name: model.name,
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo(inputName, [null, h, w, c])],
    output: [valueInfo(outputName, [null, outShape[1] as number])],
  });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: ONNX_OPSET })],
    producerName: 'retina',
    producerVersion: String(GRAPH_BUILDER_VERSION),
    graph,
    docString: opts.docString ?? '',
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}
