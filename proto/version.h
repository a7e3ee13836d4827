#ifndef ISOL8_VERSION_H
#define ISOL8_VERSION_H
#define ISOL8_VERSION "0.1.0"
#endif
