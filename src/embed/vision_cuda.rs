//! The fused CUDA kernels of [`super::vision`] (src/embed/vision_kernels.cu,
//! compiled to PTX by build.rs) as candle operations. Each takes contiguous
//! tensors of one float type and returns a new one; on other devices they
//! return an error (the tower uses candle's own operations there).

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use candle_core::cuda_backend::{kernel_name, Map2, Map3, WrapErr};
use candle_core::{
    bail, CpuStorage, CudaDevice, CudaStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor,
    WithDType,
};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/vision_kernels.ptx"));
const MODULE: &str = "provenance_vision";
/// Threads per block of the element-wise kernels.
const THREADS: u32 = 256;
/// Warps per block of the row and attention kernels.
const WARPS: u32 = 4;

fn contiguous<'a, T>(
    slice: &'a CudaSlice<T>,
    layout: &Layout,
) -> Result<candle_core::cuda_backend::cudarc::driver::CudaView<'a, T>> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(slice.slice(start..end)),
        None => bail!("fused vision kernel: input is not contiguous"),
    }
}

/// Blocks tile the columns along x; along y, enough blocks to fill the GPU
/// many times over, each stepping through rows.
fn elementwise_grid(rows: usize, cols: usize) -> LaunchConfig {
    let across = cols.div_ceil(THREADS as usize).max(1) as u32;
    let down = rows.clamp(1, 4096) as u32;
    LaunchConfig {
        grid_dim: (across, down, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Rows and columns of `x` against a bias of `cols`, both fitting the
/// kernels' 32-bit counts.
fn rows_cols(n: usize, cols: usize) -> Result<(i32, i32)> {
    if cols == 0 || !n.is_multiple_of(cols) {
        bail!("fused vision kernel: {n} values are not rows of the bias's {cols}");
    }
    match (i32::try_from(n / cols), i32::try_from(cols)) {
        (Ok(rows), Ok(cols)) => Ok((rows, cols)),
        _ => bail!("fused vision kernel: {n} values is too many"),
    }
}

fn cpu_refused(name: &str) -> Result<(CpuStorage, Shape)> {
    bail!("{name} is a CUDA kernel; on the CPU the vision tower uses candle's operations")
}

/// `layer_norm(x)·gamma + beta` over the last dimension (ε given).
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    x.apply_op3_no_bwd(gamma, beta, &LayerNormOp { eps })
}

struct LayerNormOp {
    eps: f32,
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "provenance-layer-norm"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cpu_refused(self.name())
    }

    fn cuda_fwd(
        &self,
        x: &CudaStorage,
        xl: &Layout,
        g: &CudaStorage,
        gl: &Layout,
        b: &CudaStorage,
        bl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        struct K(f32);
        impl Map3 for K {
            fn f<T: DeviceRepr + WithDType + ValidAsZeroBits>(
                &self,
                x: &CudaSlice<T>,
                xl: &Layout,
                g: &CudaSlice<T>,
                gl: &Layout,
                b: &CudaSlice<T>,
                bl: &Layout,
                dev: &CudaDevice,
            ) -> Result<CudaSlice<T>> {
                let (x, g, b) = (contiguous(x, xl)?, contiguous(g, gl)?, contiguous(b, bl)?);
                let n = xl.shape().elem_count();
                let cols = xl.dims().last().copied().unwrap_or(1);
                let rows = n / cols.max(1);
                let func =
                    dev.get_or_load_custom_func(&kernel_name::<T>("layer_norm"), MODULE, PTX)?;
                // Safety: every element is written by the kernel.
                let y = unsafe { dev.alloc::<T>(n)? };
                let mut builder = func.builder();
                builder.arg(&x).arg(&g).arg(&b).arg(&y);
                candle_core::builder_arg!(builder, rows as i32, cols as i32, self.0);
                let cfg = LaunchConfig {
                    grid_dim: ((rows as u32).div_ceil(WARPS), 1, 1),
                    block_dim: (32 * WARPS, 1, 1),
                    shared_mem_bytes: 0,
                };
                // Safety: arguments match the kernel's signature.
                unsafe { builder.launch(cfg) }.w()?;
                Ok(y)
            }
        }
        let dev = x.device().clone();
        let slice = K(self.eps).map(&x.slice, xl, &g.slice, gl, &b.slice, bl, &dev)?;
        Ok((CudaStorage { slice, device: dev }, xl.shape().clone()))
    }
}

/// `silu(x + bias)`, bias broadcast over the rows of `x`.
pub fn bias_silu(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    x.apply_op2_no_bwd(bias, &BiasSilu)
}

struct BiasSilu;

impl CustomOp2 for BiasSilu {
    fn name(&self) -> &'static str {
        "provenance-bias-silu"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cpu_refused(self.name())
    }

    fn cuda_fwd(
        &self,
        x: &CudaStorage,
        xl: &Layout,
        b: &CudaStorage,
        bl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        struct K;
        impl Map2 for K {
            fn f<T: DeviceRepr + WithDType + ValidAsZeroBits>(
                &self,
                x: &CudaSlice<T>,
                xl: &Layout,
                b: &CudaSlice<T>,
                bl: &Layout,
                dev: &CudaDevice,
            ) -> Result<CudaSlice<T>> {
                let (x, b) = (contiguous(x, xl)?, contiguous(b, bl)?);
                let n = xl.shape().elem_count();
                let (rows, cols) = rows_cols(n, bl.shape().elem_count())?;
                let func =
                    dev.get_or_load_custom_func(&kernel_name::<T>("bias_silu"), MODULE, PTX)?;
                // Safety: every element is written by the kernel.
                let y = unsafe { dev.alloc::<T>(n)? };
                let mut builder = func.builder();
                builder.arg(&x).arg(&b).arg(&y);
                candle_core::builder_arg!(builder, rows, cols);
                let grid = elementwise_grid(rows as usize, cols as usize);
                // Safety: arguments match the kernel's signature.
                unsafe { builder.launch(grid) }.w()?;
                Ok(y)
            }
        }
        let dev = x.device().clone();
        let slice = K.map(&x.slice, xl, &b.slice, bl, &dev)?;
        Ok((CudaStorage { slice, device: dev }, xl.shape().clone()))
    }
}

/// `(x + bias) + residual`, bias broadcast over the rows of `x`.
pub fn bias_residual(x: &Tensor, bias: &Tensor, residual: &Tensor) -> Result<Tensor> {
    x.apply_op3_no_bwd(bias, residual, &BiasResidual)
}

struct BiasResidual;

impl CustomOp3 for BiasResidual {
    fn name(&self) -> &'static str {
        "provenance-bias-residual"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cpu_refused(self.name())
    }

    fn cuda_fwd(
        &self,
        x: &CudaStorage,
        xl: &Layout,
        b: &CudaStorage,
        bl: &Layout,
        r: &CudaStorage,
        rl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        struct K;
        impl Map3 for K {
            fn f<T: DeviceRepr + WithDType + ValidAsZeroBits>(
                &self,
                x: &CudaSlice<T>,
                xl: &Layout,
                b: &CudaSlice<T>,
                bl: &Layout,
                r: &CudaSlice<T>,
                rl: &Layout,
                dev: &CudaDevice,
            ) -> Result<CudaSlice<T>> {
                let (x, b, r) = (contiguous(x, xl)?, contiguous(b, bl)?, contiguous(r, rl)?);
                let n = xl.shape().elem_count();
                if rl.shape().elem_count() != n {
                    bail!("bias_residual: residual of another size");
                }
                let (rows, cols) = rows_cols(n, bl.shape().elem_count())?;
                let func =
                    dev.get_or_load_custom_func(&kernel_name::<T>("bias_residual"), MODULE, PTX)?;
                // Safety: every element is written by the kernel.
                let y = unsafe { dev.alloc::<T>(n)? };
                let mut builder = func.builder();
                builder.arg(&x).arg(&b).arg(&r).arg(&y);
                candle_core::builder_arg!(builder, rows, cols);
                let grid = elementwise_grid(rows as usize, cols as usize);
                // Safety: arguments match the kernel's signature.
                unsafe { builder.launch(grid) }.w()?;
                Ok(y)
            }
        }
        let dev = x.device().clone();
        let slice = K.map(&x.slice, xl, &b.slice, bl, &r.slice, rl, &dev)?;
        Ok((CudaStorage { slice, device: dev }, xl.shape().clone()))
    }
}

/// Shared memory the attention kernel needs, in bytes.
pub fn attention_shared_bytes(tokens: usize, head_dim: usize) -> usize {
    let warps = WARPS as usize;
    4 * (tokens * (head_dim + 1) + tokens * head_dim + 2 * warps * (head_dim + tokens))
}

/// Largest shared memory a block may use without opting in.
pub const SHARED_LIMIT: usize = 48 * 1024;

/// Self-attention from the unbiased qkv projection `(batch·tokens, 3·embed)`
/// and its bias `(3·embed)` (q pre-scaled); the first `q_rows` tokens of
/// each picture attend. Returns `(batch·q_rows, embed)`.
pub fn attention(
    qkv: &Tensor,
    bias: &Tensor,
    batch: usize,
    heads: usize,
    q_rows: usize,
) -> Result<Tensor> {
    qkv.apply_op2_no_bwd(
        bias,
        &Attention {
            batch,
            heads,
            q_rows,
        },
    )
}

struct Attention {
    batch: usize,
    heads: usize,
    q_rows: usize,
}

impl CustomOp2 for Attention {
    fn name(&self) -> &'static str {
        "provenance-attention"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cpu_refused(self.name())
    }

    fn cuda_fwd(
        &self,
        x: &CudaStorage,
        xl: &Layout,
        b: &CudaStorage,
        bl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let (rows, width) = xl.shape().dims2()?;
        let embed = width / 3;
        if !width.is_multiple_of(3)
            || self.batch == 0
            || !rows.is_multiple_of(self.batch)
            || self.heads == 0
            || !embed.is_multiple_of(self.heads)
        {
            bail!(
                "attention: qkv of shape ({rows}, {width}) for batch {}",
                self.batch
            );
        }
        let tokens = rows / self.batch;
        let head_dim = embed / self.heads;
        let shared = attention_shared_bytes(tokens, head_dim);
        if shared > SHARED_LIMIT || self.q_rows > tokens {
            bail!("attention: {tokens} tokens of {head_dim} need {shared} bytes of shared memory");
        }
        struct K<'a>(&'a Attention, usize, usize, usize);
        impl Map2 for K<'_> {
            fn f<T: DeviceRepr + WithDType + ValidAsZeroBits>(
                &self,
                x: &CudaSlice<T>,
                xl: &Layout,
                b: &CudaSlice<T>,
                bl: &Layout,
                dev: &CudaDevice,
            ) -> Result<CudaSlice<T>> {
                let K(op, tokens, head_dim, shared) = *self;
                let (x, b) = (contiguous(x, xl)?, contiguous(b, bl)?);
                let n = op.batch * op.q_rows * op.heads * head_dim;
                let func =
                    dev.get_or_load_custom_func(&kernel_name::<T>("attention"), MODULE, PTX)?;
                // Safety: every element is written by the kernel.
                let y = unsafe { dev.alloc::<T>(n)? };
                let mut builder = func.builder();
                builder.arg(&x).arg(&b).arg(&y);
                candle_core::builder_arg!(
                    builder,
                    tokens as i32,
                    op.heads as i32,
                    head_dim as i32,
                    op.q_rows as i32
                );
                let cfg = LaunchConfig {
                    grid_dim: ((op.batch * op.heads) as u32, 1, 1),
                    block_dim: (32 * WARPS, 1, 1),
                    shared_mem_bytes: shared as u32,
                };
                // Safety: arguments match the kernel's signature.
                unsafe { builder.launch(cfg) }.w()?;
                Ok(y)
            }
        }
        let dev = x.device().clone();
        let slice = K(self, tokens, head_dim, shared).map(&x.slice, xl, &b.slice, bl, &dev)?;
        let shape = Shape::from((self.batch * self.q_rows, embed));
        Ok((CudaStorage { slice, device: dev }, shape))
    }
}
