//! Rebuilds the crate when a migration changes; with the `cuda` feature,
//! compiles the vision tower's fused kernels (src/embed/vision_kernels.cu)
//! to PTX with nvcc, for the compute capability in `CUDA_COMPUTE_CAP`
//! (default 80; PTX runs on that and every later GPU, which the driver
//! compiles it for once and caches).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // The stores embed their migrations (sqlx::migrate!): a changed one
    // must rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let source = "src/embed/vision_kernels.cu";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".into());
    let cap: String = cap.chars().filter(char::is_ascii_digit).collect();
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("vision_kernels.ptx");
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    let status = std::process::Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("-arch=compute_{cap}"))
        .arg("-o")
        .arg(&out)
        .arg(source)
        .status()
        .unwrap_or_else(|e| panic!("running {nvcc} (the cuda feature needs CUDA's compiler): {e}"));
    assert!(status.success(), "{nvcc} failed on {source}");
}
