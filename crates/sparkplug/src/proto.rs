//! The Rust types of Eclipse Tahu's `sparkplug_b.proto` (package
//! `org.eclipse.tahu.protobuf`, committed in `proto/`), written by hand with
//! `prost`'s derives to match the schema field for field: same numbers, same
//! scalar types, proto2 `optional` as `Option`, each `oneof` as an enum.
//!
//! The schema's `extensions` ranges have no Rust form: prost skips unknown
//! fields, which is what a reader that knows no extension does. The empty
//! `…Extension` messages are kept so a value carried there is recognised
//! (and shown as an extension) rather than mistaken for an absent value.
//!
//! Only types: no decoding policy lives here (see `render` and `state`).
//! Decoding goes through prost, whose recursion limit (100 nested messages)
//! bounds the nesting of templates, data sets and property sets.

#![allow(missing_docs)] // The fields are the schema's; their meaning is the .proto's.

/// `enum DataType` of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataType {
    Unknown = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    UInt8 = 5,
    UInt16 = 6,
    UInt32 = 7,
    UInt64 = 8,
    Float = 9,
    Double = 10,
    Boolean = 11,
    String = 12,
    DateTime = 13,
    Text = 14,
    Uuid = 15,
    DataSet = 16,
    Bytes = 17,
    File = 18,
    Template = 19,
    PropertySet = 20,
    PropertySetList = 21,
    Int8Array = 22,
    Int16Array = 23,
    Int32Array = 24,
    Int64Array = 25,
    UInt8Array = 26,
    UInt16Array = 27,
    UInt32Array = 28,
    UInt64Array = 29,
    FloatArray = 30,
    DoubleArray = 31,
    BooleanArray = 32,
    StringArray = 33,
    DateTimeArray = 34,
}

impl DataType {
    /// The schema's name of the type (`UUID` as spelled there).
    pub fn name(self) -> &'static str {
        use DataType::*;
        match self {
            Unknown => "Unknown",
            Int8 => "Int8",
            Int16 => "Int16",
            Int32 => "Int32",
            Int64 => "Int64",
            UInt8 => "UInt8",
            UInt16 => "UInt16",
            UInt32 => "UInt32",
            UInt64 => "UInt64",
            Float => "Float",
            Double => "Double",
            Boolean => "Boolean",
            String => "String",
            DateTime => "DateTime",
            Text => "Text",
            Uuid => "UUID",
            DataSet => "DataSet",
            Bytes => "Bytes",
            File => "File",
            Template => "Template",
            PropertySet => "PropertySet",
            PropertySetList => "PropertySetList",
            Int8Array => "Int8Array",
            Int16Array => "Int16Array",
            Int32Array => "Int32Array",
            Int64Array => "Int64Array",
            UInt8Array => "UInt8Array",
            UInt16Array => "UInt16Array",
            UInt32Array => "UInt32Array",
            UInt64Array => "UInt64Array",
            FloatArray => "FloatArray",
            DoubleArray => "DoubleArray",
            BooleanArray => "BooleanArray",
            StringArray => "StringArray",
            DateTimeArray => "DateTimeArray",
        }
    }

    /// The type of a `uint32 datatype` / `type` field, if the schema knows it.
    pub fn from_u32(n: u32) -> Option<DataType> {
        i32::try_from(n)
            .ok()
            .and_then(|n| DataType::try_from(n).ok())
    }
}

/// `message Payload`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<payload::Metric>,
    #[prost(uint64, optional, tag = "3")]
    pub seq: Option<u64>,
    #[prost(string, optional, tag = "4")]
    pub uuid: Option<String>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub body: Option<Vec<u8>>,
}

/// The messages nested in `Payload`.
pub mod payload {
    /// `Payload.Template`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Template {
        #[prost(string, optional, tag = "1")]
        pub version: Option<String>,
        #[prost(message, repeated, tag = "2")]
        pub metrics: Vec<Metric>,
        #[prost(message, repeated, tag = "3")]
        pub parameters: Vec<template::Parameter>,
        #[prost(string, optional, tag = "4")]
        pub template_ref: Option<String>,
        #[prost(bool, optional, tag = "5")]
        pub is_definition: Option<bool>,
    }

    /// The messages nested in `Template`.
    pub mod template {
        /// `Template.Parameter`.
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Parameter {
            #[prost(string, optional, tag = "1")]
            pub name: Option<String>,
            #[prost(uint32, optional, tag = "2")]
            pub r#type: Option<u32>,
            #[prost(oneof = "parameter::Value", tags = "3, 4, 5, 6, 7, 8, 9")]
            pub value: Option<parameter::Value>,
        }

        /// The `oneof value` of `Parameter`.
        pub mod parameter {
            /// `Parameter.ParameterValueExtension` (extensions only).
            #[derive(Clone, Copy, PartialEq, prost::Message)]
            pub struct ParameterValueExtension {}

            /// `oneof value`.
            #[derive(Clone, PartialEq, prost::Oneof)]
            pub enum Value {
                #[prost(uint32, tag = "3")]
                IntValue(u32),
                #[prost(uint64, tag = "4")]
                LongValue(u64),
                #[prost(float, tag = "5")]
                FloatValue(f32),
                #[prost(double, tag = "6")]
                DoubleValue(f64),
                #[prost(bool, tag = "7")]
                BooleanValue(bool),
                #[prost(string, tag = "8")]
                StringValue(String),
                #[prost(message, tag = "9")]
                ExtensionValue(ParameterValueExtension),
            }
        }
    }

    /// `Payload.DataSet`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct DataSet {
        #[prost(uint64, optional, tag = "1")]
        pub num_of_columns: Option<u64>,
        #[prost(string, repeated, tag = "2")]
        pub columns: Vec<String>,
        // proto2 repeated scalars are unpacked on the wire by default; prost
        // reads both forms, as the protobuf spec requires of a reader.
        #[prost(uint32, repeated, packed = "false", tag = "3")]
        pub types: Vec<u32>,
        #[prost(message, repeated, tag = "4")]
        pub rows: Vec<data_set::Row>,
    }

    /// The messages nested in `DataSet`.
    pub mod data_set {
        /// `DataSet.DataSetValue`.
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct DataSetValue {
            #[prost(oneof = "data_set_value::Value", tags = "1, 2, 3, 4, 5, 6, 7")]
            pub value: Option<data_set_value::Value>,
        }

        /// The `oneof value` of `DataSetValue`.
        pub mod data_set_value {
            /// `DataSetValue.DataSetValueExtension` (extensions only).
            #[derive(Clone, Copy, PartialEq, prost::Message)]
            pub struct DataSetValueExtension {}

            /// `oneof value`.
            #[derive(Clone, PartialEq, prost::Oneof)]
            pub enum Value {
                #[prost(uint32, tag = "1")]
                IntValue(u32),
                #[prost(uint64, tag = "2")]
                LongValue(u64),
                #[prost(float, tag = "3")]
                FloatValue(f32),
                #[prost(double, tag = "4")]
                DoubleValue(f64),
                #[prost(bool, tag = "5")]
                BooleanValue(bool),
                #[prost(string, tag = "6")]
                StringValue(String),
                #[prost(message, tag = "7")]
                ExtensionValue(DataSetValueExtension),
            }
        }

        /// `DataSet.Row`.
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Row {
            #[prost(message, repeated, tag = "1")]
            pub elements: Vec<DataSetValue>,
        }
    }

    /// `Payload.PropertyValue`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PropertyValue {
        #[prost(uint32, optional, tag = "1")]
        pub r#type: Option<u32>,
        #[prost(bool, optional, tag = "2")]
        pub is_null: Option<bool>,
        #[prost(oneof = "property_value::Value", tags = "3, 4, 5, 6, 7, 8, 9, 10, 11")]
        pub value: Option<property_value::Value>,
    }

    /// The `oneof value` of `PropertyValue`.
    pub mod property_value {
        /// `PropertyValue.PropertyValueExtension` (extensions only).
        #[derive(Clone, Copy, PartialEq, prost::Message)]
        pub struct PropertyValueExtension {}

        /// `oneof value`.
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            #[prost(uint32, tag = "3")]
            IntValue(u32),
            #[prost(uint64, tag = "4")]
            LongValue(u64),
            #[prost(float, tag = "5")]
            FloatValue(f32),
            #[prost(double, tag = "6")]
            DoubleValue(f64),
            #[prost(bool, tag = "7")]
            BooleanValue(bool),
            #[prost(string, tag = "8")]
            StringValue(String),
            #[prost(message, tag = "9")]
            PropertysetValue(super::PropertySet),
            #[prost(message, tag = "10")]
            PropertysetsValue(super::PropertySetList),
            #[prost(message, tag = "11")]
            ExtensionValue(PropertyValueExtension),
        }
    }

    /// `Payload.PropertySet`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PropertySet {
        #[prost(string, repeated, tag = "1")]
        pub keys: Vec<String>,
        #[prost(message, repeated, tag = "2")]
        pub values: Vec<PropertyValue>,
    }

    /// `Payload.PropertySetList`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PropertySetList {
        #[prost(message, repeated, tag = "1")]
        pub propertyset: Vec<PropertySet>,
    }

    /// `Payload.MetaData`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct MetaData {
        #[prost(bool, optional, tag = "1")]
        pub is_multi_part: Option<bool>,
        #[prost(string, optional, tag = "2")]
        pub content_type: Option<String>,
        #[prost(uint64, optional, tag = "3")]
        pub size: Option<u64>,
        #[prost(uint64, optional, tag = "4")]
        pub seq: Option<u64>,
        #[prost(string, optional, tag = "5")]
        pub file_name: Option<String>,
        #[prost(string, optional, tag = "6")]
        pub file_type: Option<String>,
        #[prost(string, optional, tag = "7")]
        pub md5: Option<String>,
        #[prost(string, optional, tag = "8")]
        pub description: Option<String>,
    }

    /// `Payload.Metric`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Metric {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(uint64, optional, tag = "2")]
        pub alias: Option<u64>,
        #[prost(uint64, optional, tag = "3")]
        pub timestamp: Option<u64>,
        #[prost(uint32, optional, tag = "4")]
        pub datatype: Option<u32>,
        #[prost(bool, optional, tag = "5")]
        pub is_historical: Option<bool>,
        #[prost(bool, optional, tag = "6")]
        pub is_transient: Option<bool>,
        #[prost(bool, optional, tag = "7")]
        pub is_null: Option<bool>,
        #[prost(message, optional, tag = "8")]
        pub metadata: Option<MetaData>,
        #[prost(message, optional, tag = "9")]
        pub properties: Option<PropertySet>,
        #[prost(
            oneof = "metric::Value",
            tags = "10, 11, 12, 13, 14, 15, 16, 17, 18, 19"
        )]
        pub value: Option<metric::Value>,
    }

    /// The `oneof value` of `Metric`.
    pub mod metric {
        /// `Metric.MetricValueExtension` (extensions only).
        #[derive(Clone, Copy, PartialEq, prost::Message)]
        pub struct MetricValueExtension {}

        /// `oneof value`.
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            #[prost(uint32, tag = "10")]
            IntValue(u32),
            #[prost(uint64, tag = "11")]
            LongValue(u64),
            #[prost(float, tag = "12")]
            FloatValue(f32),
            #[prost(double, tag = "13")]
            DoubleValue(f64),
            #[prost(bool, tag = "14")]
            BooleanValue(bool),
            #[prost(string, tag = "15")]
            StringValue(String),
            #[prost(bytes = "vec", tag = "16")]
            BytesValue(Vec<u8>),
            #[prost(message, tag = "17")]
            DatasetValue(super::DataSet),
            #[prost(message, tag = "18")]
            TemplateValue(super::Template),
            #[prost(message, tag = "19")]
            ExtensionValue(MetricValueExtension),
        }
    }
}
