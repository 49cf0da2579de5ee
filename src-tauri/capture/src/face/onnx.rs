//! Building small ONNX graphs in memory (for networks that ship as bare
//! weights), and the load-time fix the BlazeFace ONNX needs.

use tract_onnx::pb;

/// Appends nodes and initialisers with generated names.
pub struct GraphBuilder {
    graph: pb::GraphProto,
    next: usize,
}

fn attr_int(name: &str, v: i64) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: pb::attribute_proto::AttributeType::Int as i32,
        i: v,
        ..Default::default()
    }
}

fn attr_ints(name: &str, v: &[i64]) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: pb::attribute_proto::AttributeType::Ints as i32,
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn tensor_type(dims: &[i64]) -> pb::TypeProto {
    use pb::tensor_shape_proto::{Dimension, dimension};
    pb::TypeProto {
        value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
            elem_type: pb::tensor_proto::DataType::Float as i32,
            shape: Some(pb::TensorShapeProto {
                dim: dims
                    .iter()
                    .map(|&d| Dimension { value: Some(dimension::Value::DimValue(d)), ..Default::default() })
                    .collect(),
            }),
        })),
        ..Default::default()
    }
}

impl GraphBuilder {
    pub fn new(input: &str, dims: &[i64]) -> GraphBuilder {
        let graph = pb::GraphProto {
            name: "capture".into(),
            input: vec![pb::ValueInfoProto {
                name: input.into(),
                r#type: Some(tensor_type(dims)),
                ..Default::default()
            }],
            ..Default::default()
        };
        GraphBuilder { graph, next: 0 }
    }

    fn fresh(&mut self, what: &str) -> String {
        self.next += 1;
        format!("{what}_{}", self.next)
    }

    pub fn initializer(&mut self, dims: &[i64], values: Vec<f32>) -> String {
        let name = self.fresh("w");
        self.graph.initializer.push(pb::TensorProto {
            name: name.clone(),
            dims: dims.to_vec(),
            data_type: pb::tensor_proto::DataType::Float as i32,
            float_data: values,
            ..Default::default()
        });
        name
    }

    fn initializer_i64(&mut self, values: &[i64]) -> String {
        let name = self.fresh("i");
        self.graph.initializer.push(pb::TensorProto {
            name: name.clone(),
            dims: vec![values.len() as i64],
            data_type: pb::tensor_proto::DataType::Int64 as i32,
            int64_data: values.to_vec(),
            ..Default::default()
        });
        name
    }

    fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<pb::AttributeProto>) -> String {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.graph.node.push(pb::NodeProto {
            op_type: op.into(),
            name: out.clone(),
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: vec![out.clone()],
            attribute: attrs,
            ..Default::default()
        });
        out
    }

    /// 2-d convolution, square kernel, symmetric padding `pad`.
    pub fn conv(
        &mut self,
        x: &str,
        shape: &[usize],
        weights: Vec<f32>,
        bias: Vec<f32>,
        stride: i64,
        pad: i64,
    ) -> String {
        self.conv_ext(x, shape, weights, Some(bias), stride, [pad; 4], 1)
    }

    /// 2-d convolution with explicit pads (top, left, bottom, right: TF's
    /// "same" with stride 2 pads only after), optional bias and groups
    /// (groups = channels: a depthwise convolution).
    #[allow(clippy::too_many_arguments)] // mirrors ONNX Conv's own attributes
    pub fn conv_ext(
        &mut self,
        x: &str,
        shape: &[usize],
        weights: Vec<f32>,
        bias: Option<Vec<f32>>,
        stride: i64,
        pads: [i64; 4],
        group: i64,
    ) -> String {
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let w = self.initializer(&dims, weights);
        let mut inputs = vec![x.to_owned(), w];
        if let Some(b) = bias {
            inputs.push(self.initializer(&[dims[0]], b));
        }
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        self.node(
            "Conv",
            &inputs,
            vec![
                attr_ints("kernel_shape", &dims[2..]),
                attr_ints("strides", &[stride, stride]),
                attr_ints("pads", &pads),
                attr_int("group", group),
            ],
        )
    }

    pub fn max_pool(&mut self, x: &str, k: i64, stride: i64) -> String {
        self.node(
            "MaxPool",
            &[x],
            vec![attr_ints("kernel_shape", &[k, k]), attr_ints("strides", &[stride, stride])],
        )
    }

    pub fn avg_pool(&mut self, x: &str, k: i64, stride: i64) -> String {
        self.node(
            "AveragePool",
            &[x],
            vec![attr_ints("kernel_shape", &[k, k]), attr_ints("strides", &[stride, stride])],
        )
    }

    /// Zero padding; `pads` is ONNX order: all begins, then all ends (NCHW).
    pub fn pad(&mut self, x: &str, pads: [i64; 8]) -> String {
        let p = self.initializer_i64(&pads);
        self.node("Pad", &[x, &p], vec![])
    }

    pub fn flatten(&mut self, x: &str) -> String {
        self.node("Flatten", &[x], vec![attr_int("axis", 1)])
    }

    pub fn unary(&mut self, op: &str, x: &str) -> String {
        self.node(op, &[x], vec![])
    }

    pub fn binary(&mut self, op: &str, a: &str, b: &str) -> String {
        self.node(op, &[a, b], vec![])
    }

    /// Rename the last output and wrap the graph in a model (opset 13).
    pub fn finish(mut self, out: &str, name: &str) -> pb::ModelProto {
        for n in self.graph.node.iter_mut() {
            for o in n.output.iter_mut().chain(n.input.iter_mut()) {
                if o == out {
                    *o = name.to_owned();
                }
            }
        }
        self.graph.output.push(pb::ValueInfoProto { name: name.into(), ..Default::default() });
        pb::ModelProto {
            ir_version: 7,
            producer_name: "capture".into(),
            opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 13 }],
            graph: Some(self.graph),
            ..Default::default()
        }
    }
}

/// The keijiro BlazeFace ONNX has `ConstantOfShape` nodes without a `value`
/// attribute. The ONNX spec says the default is a float32 zero; tract 0.23
/// uses an f64 zero, and the graph then fails to type-check. Add the
/// attribute the spec implies.
pub fn fix_constant_of_shape(model: &mut pb::ModelProto) -> usize {
    let mut fixed = 0;
    if let Some(g) = model.graph.as_mut() {
        for n in g.node.iter_mut().filter(|n| n.op_type == "ConstantOfShape") {
            if !n.attribute.iter().any(|a| a.name == "value") {
                n.attribute.push(pb::AttributeProto {
                    name: "value".into(),
                    r#type: pb::attribute_proto::AttributeType::Tensor as i32,
                    t: Some(pb::TensorProto {
                        dims: vec![1],
                        data_type: pb::tensor_proto::DataType::Float as i32,
                        float_data: vec![0.0],
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                fixed += 1;
            }
        }
    }
    fixed
}
