// Parse-cost probe for bench/notes.md: time simdjson on-demand over a manifest, with the file
// read into a padded_string (as orc does), mmapped, or read into a MADV_HUGEPAGE buffer.
//   g++ -std=c++20 -O2 bench/parse_probe.cc -lsimdjson -o /tmp/parse_probe
//   /tmp/parse_probe bench/out/n100000/target/manifest.json load|mmap|huge
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstring>
using namespace simdjson;
static double ms(std::chrono::steady_clock::time_point a){return std::chrono::duration<double,std::milli>(std::chrono::steady_clock::now()-a).count();}
static size_t walk(ondemand::document& doc){
  size_t n=0;
  for (auto f : doc.get_object()) {
    std::string_view k = f.unescaped_key();
    if (k=="nodes"||k=="sources") {
      for (auto e : f.value().get_object()) {
        for (auto g : e.value().get_object()) { std::string_view kk=g.unescaped_key(); if(kk=="resource_type"){ std::string_view s=g.value().get_string(); n+=s.size();} }
        ++n;
      }
    }
  }
  return n;
}
int main(int argc,char**argv){
  const char* path=argv[1]; bool use_mmap = argc>2 && !strcmp(argv[2],"mmap"); bool huge = argc>2 && !strcmp(argv[2],"huge");
  auto t0=std::chrono::steady_clock::now();
  ondemand::parser parser;
  size_t n=0; double tload=0;
  if(use_mmap){
    int fd=open(path,O_RDONLY); struct stat st; fstat(fd,&st);
    size_t len=st.st_size; size_t map=(len+SIMDJSON_PADDING+4095)&~size_t(4095);
    // reserve address space with the padding zero pages, then map the file over it
    char* p=(char*)mmap(nullptr,map,PROT_READ,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
    mmap(p,len,PROT_READ,MAP_PRIVATE|MAP_FIXED|MAP_POPULATE,fd,0);
    tload=ms(t0);
    if(huge){}
    padded_string_view v(p,len,map);
    auto doc=parser.iterate(v); n=walk(doc.value());
  } else {
    padded_string s;
    if(huge){
      int fd=open(path,O_RDONLY); struct stat st; fstat(fd,&st); size_t len=st.st_size;
      size_t cap=(len+SIMDJSON_PADDING+(2<<20))&~size_t((2<<20)-1);
      char* p=(char*)mmap(nullptr,cap,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
      madvise(p,cap,MADV_HUGEPAGE);
      size_t off=0; while(off<len){ ssize_t r=read(fd,p+off,len-off); if(r<=0)break; off+=r;}
      tload=ms(t0);
      padded_string_view v(p,len,cap);
      auto doc=parser.iterate(v); n=walk(doc.value());
    } else {
      s=padded_string::load(path); tload=ms(t0);
      auto doc=parser.iterate(s); n=walk(doc.value());
    }
  }
  std::printf("%s: load %.0f ms, total %.0f ms (%zu)\n", argc>2?argv[2]:"load", tload, ms(t0), n);
}
