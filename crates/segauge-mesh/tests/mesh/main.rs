//! Integration tests of segauge-mesh.

mod marching_cubes;
mod surface_nets;
