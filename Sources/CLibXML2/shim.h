#ifndef CLIBXML2_SHIM_H
#define CLIBXML2_SHIM_H
#include <stdint.h>
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

/* libxml2 keeps an element's line in an unsigned short. Record the parser's full line
   in the element's `_private` slot instead, so locations stay exact past line 65535. */
static inline void clibxml2_start_element_ns(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *URI, int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
    int nb_defaulted, const xmlChar **attributes) {
    xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)ctx;
    xmlSAX2StartElementNs(ctx, localname, prefix, URI, nb_namespaces, namespaces, nb_attributes,
                          nb_defaulted, attributes);
    if (ctxt->node != NULL && ctxt->input != NULL) {
        ctxt->node->_private = (void *)(intptr_t)ctxt->input->line;
    }
}

/* A policy never needs a DTD; refusing the DOCTYPE before its internal subset is read
   rules out entity expansion attacks (billion laughs) and external entities (XXE). */
static inline void clibxml2_refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *externalID,
    const xmlChar *systemID) {
    (void)name; (void)externalID; (void)systemID;
    xmlStopParser((xmlParserCtxtPtr)ctx);
}

static inline void clibxml2_harden(xmlParserCtxtPtr _Nonnull ctxt) {
    ctxt->sax->startElementNs = clibxml2_start_element_ns;
    ctxt->sax->internalSubset = clibxml2_refuse_doctype;
    ctxt->sax->externalSubset = clibxml2_refuse_doctype;
}

static inline long clibxml2_node_line(const xmlNode *_Nonnull node) {
    if (node->type == XML_ELEMENT_NODE && node->_private != NULL) return (long)(intptr_t)node->_private;
    return xmlGetLineNo(node);
}
#endif
