//! Integration tests of segauge-mesh.

mod contour;
mod marching_cubes;
mod surface_nets;
