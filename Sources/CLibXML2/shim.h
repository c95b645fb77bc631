#ifndef CLIBXML2_SHIM_H
#define CLIBXML2_SHIM_H
#include <stdint.h>
#include <string.h>
#include <libxml/xmlversion.h>
/* Debian builds libxml2 with ICU; its <unicode/*.h> clash with Foundation's bundled ICU
   whenever the index store is on (every debug build and `swift test`). Nothing we call
   needs ICU, so hide it. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

/* `xmlFree` is a mutable C global; Swift 6 refuses to read it directly. */
static inline void clibxml2_free(void *_Nullable pointer) { xmlFree(pointer); }

/* A policy never needs a DTD; refusing the DOCTYPE before its internal subset is read
   rules out entity expansion attacks (billion laughs) and external entities (XXE). */
static inline void clibxml2_refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *externalID,
    const xmlChar *systemID) {
    (void)name; (void)externalID; (void)systemID;
    xmlStopParser((xmlParserCtxtPtr)ctx);
}

/* Replaces the context's SAX handler (the tree builder) by an empty SAX2 handler that refuses
   any DOCTYPE; the reader then installs its own callbacks and builds no libxml2 tree. */
static inline void clibxml2_reset_sax(xmlParserCtxtPtr _Nonnull ctxt) {
    memset(ctxt->sax, 0, sizeof(xmlSAXHandler));
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    ctxt->sax->internalSubset = clibxml2_refuse_doctype;
    ctxt->sax->externalSubset = clibxml2_refuse_doctype;
}

/* Plugs streaming XSD validation into the context's SAX events (the validator sees every event
   after our callbacks). Parser errors raised after this go to the plug's handler block, whose
   structured error callback is then `serror`; they carry the parser context in `xmlError.ctxt`
   (their user data is the plug). Unplug with xmlSchemaSAXUnplug before freeing the context. */
static inline xmlSchemaSAXPlugPtr _Nullable clibxml2_plug_schema(xmlSchemaValidCtxtPtr _Nonnull validator,
    xmlParserCtxtPtr _Nonnull ctxt, xmlStructuredErrorFunc _Nullable serror) {
    xmlSchemaSAXPlugPtr plug = xmlSchemaSAXPlug(validator, &ctxt->sax, &ctxt->userData);
    if (plug != NULL) ctxt->sax->serror = serror;
    return plug;
}

/* The line the parser has reached: for a start tag, the line of its `>`. */
static inline long clibxml2_parser_line(const xmlParserCtxt *_Nonnull ctxt) {
    return ctxt->input != NULL ? (long)ctxt->input->line : 0;
}
#endif
