import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DISTCACHE_MODULE_OPTIONS } from './distcache.constants';
import type { DistCacheModuleExtras, DistCacheModuleOptions } from './distcache.options';

// `OPTIONS_TYPE`/`ASYNC_OPTIONS_TYPE` exist for `typeof` only; distcache.options.ts names them.
export const {
  ConfigurableModuleClass: ConfigurableDistCacheModule,
  OPTIONS_TYPE: DISTCACHE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DISTCACHE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DistCacheModuleOptions>({
  optionsInjectionToken: DISTCACHE_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDistCacheOptions')
  .setExtras<DistCacheModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal === true,
  }))
  .build();
