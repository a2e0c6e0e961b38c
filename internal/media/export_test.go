package media

// The test images, for the external tests.
var (
	PNGOf            = pngOf
	PNGBomb          = pngBomb
	JPEGWithMetadata = jpegWithMetadata
)
