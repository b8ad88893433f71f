"""The control-board workbook of PRODUCT.md: template, reading, validation and import."""
